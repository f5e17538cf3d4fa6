//! What the code actions need to know of a file's language: how it writes a
//! comment (for the allow comment) and how it reads an environment variable
//! (to replace a pasted token). Known by the editor's language id, or, for a
//! file read from disk, by its name.

/// How a language writes a comment to the end of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comment {
    /// `// …`, `# …`, `-- …`
    Line(&'static str),
    /// `<!-- … -->`, `/* … */`
    Block(&'static str, &'static str),
}

impl Comment {
    /// The comment holding `text`, preceded by a space.
    pub fn around(self, text: &str) -> String {
        match self {
            Comment::Line(start) => format!(" {start} {text}"),
            Comment::Block(start, end) => format!(" {start} {text} {end}"),
        }
    }
}

/// How a language reads an environment variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvStyle {
    /// JavaScript and TypeScript: `process.env.NAME`.
    Node,
    /// `os.environ["NAME"]` (with `import os` added where missing).
    Python,
    /// `$env:NAME`
    PowerShell,
    /// `Environment.GetEnvironmentVariable("NAME")`
    CSharp,
    /// `std::env::var("NAME")`
    Rust,
    /// `os.Getenv("NAME")`
    Go,
    /// `System.getenv("NAME")`
    Java,
    /// `ENV["NAME"]`
    Ruby,
    /// `getenv('NAME')`
    Php,
    /// `"$NAME"`
    Shell,
}

impl EnvStyle {
    /// The expression reading `name` (an identifier: `A-Z`, `0-9`, `_`).
    pub fn reference(self, name: &str) -> String {
        match self {
            EnvStyle::Node => format!("process.env.{name}"),
            EnvStyle::Python => format!("os.environ[\"{name}\"]"),
            EnvStyle::PowerShell => format!("$env:{name}"),
            EnvStyle::CSharp => format!("Environment.GetEnvironmentVariable(\"{name}\")"),
            EnvStyle::Rust => format!("std::env::var(\"{name}\")"),
            EnvStyle::Go => format!("os.Getenv(\"{name}\")"),
            EnvStyle::Java => format!("System.getenv(\"{name}\")"),
            EnvStyle::Ruby => format!("ENV[\"{name}\"]"),
            EnvStyle::Php => format!("getenv('{name}')"),
            EnvStyle::Shell => format!("\"${{{name}}}\""),
        }
    }

    /// The quotes a string literal of the language may use.
    pub fn quotes(self) -> &'static [u8] {
        match self {
            EnvStyle::Node => b"\"'`",
            EnvStyle::Python | EnvStyle::PowerShell | EnvStyle::Ruby | EnvStyle::Php => b"\"'",
            EnvStyle::Shell => b"\"'",
            EnvStyle::CSharp | EnvStyle::Rust | EnvStyle::Java => b"\"",
            EnvStyle::Go => b"\"`",
        }
    }
}

/// A language as far as the code actions care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Language {
    /// `None`: the format has no comments (JSON), or it is not known.
    pub comment: Option<Comment>,
    pub env: Option<EnvStyle>,
}

const SLASHES: Option<Comment> = Some(Comment::Line("//"));
const HASH: Option<Comment> = Some(Comment::Line("#"));
const DASHES: Option<Comment> = Some(Comment::Line("--"));
const MARKUP: Option<Comment> = Some(Comment::Block("<!--", "-->"));

/// The language of an editor's language id (VS Code's identifiers, which
/// Neovim's and Helix's file types mostly share).
pub fn from_id(id: &str) -> Language {
    let (comment, env) = match id {
        "javascript" | "javascriptreact" | "typescript" | "typescriptreact" | "vue" | "svelte"
        | "astro" => (SLASHES, Some(EnvStyle::Node)),
        "python" => (HASH, Some(EnvStyle::Python)),
        "powershell" | "ps1" => (HASH, Some(EnvStyle::PowerShell)),
        "csharp" | "cs" => (SLASHES, Some(EnvStyle::CSharp)),
        "rust" => (SLASHES, Some(EnvStyle::Rust)),
        "go" => (SLASHES, Some(EnvStyle::Go)),
        "java" => (SLASHES, Some(EnvStyle::Java)),
        "ruby" => (HASH, Some(EnvStyle::Ruby)),
        "php" => (SLASHES, Some(EnvStyle::Php)),
        "shellscript" | "sh" | "bash" | "zsh" => (HASH, Some(EnvStyle::Shell)),
        "c" | "cpp" | "objective-c" | "objective-cpp" | "kotlin" | "swift" | "scala" | "dart"
        | "groovy" | "fsharp" | "zig" | "jsonc" | "hcl" | "terraform" | "proto" => (SLASHES, None),
        "yaml" | "toml" | "perl" | "r" | "dockerfile" | "makefile" | "dotenv" | "properties"
        | "ini" | "elixir" | "nix" | "coffeescript" | "julia" | "crystal" | "nim" | "cmake"
        | "gitignore" | "ignore" | "conf" | "sshconfig" => (HASH, None),
        "sql" | "lua" | "haskell" | "elm" | "ada" => (DASHES, None),
        "html" | "xml" | "markdown" | "xsl" | "svg" => (MARKUP, None),
        "css" | "scss" | "less" => (Some(Comment::Block("/*", "*/")), None),
        "clojure" | "lisp" | "scheme" | "elisp" => (Some(Comment::Line(";;")), None),
        "bat" => (Some(Comment::Line("::")), None),
        "erlang" | "latex" | "tex" | "matlab" => (Some(Comment::Line("%")), None),
        "vb" => (Some(Comment::Line("'")), None),
        _ => (None, None),
    };
    Language { comment, env }
}

/// The language of a file, by its name (a file read from disk has no
/// editor language id).
pub fn from_path(path: &str) -> Language {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    if lower == "dockerfile" || lower.starts_with("dockerfile.") {
        return from_id("dockerfile");
    }
    if lower == "makefile" {
        return from_id("makefile");
    }
    if lower == ".env" || lower.starts_with(".env.") {
        return from_id("dotenv");
    }
    let extension = lower.rsplit_once('.').map_or("", |(_, e)| e);
    let id = match extension {
        "js" | "mjs" | "cjs" | "jsx" => "javascript",
        "ts" | "mts" | "cts" | "tsx" => "typescript",
        "py" | "pyw" => "python",
        "ps1" | "psm1" | "psd1" => "powershell",
        "cs" | "csx" => "csharp",
        "rs" => "rust",
        "go" => "go",
        "java" => "java",
        "rb" => "ruby",
        "php" => "php",
        "sh" | "bash" | "zsh" => "shellscript",
        "c" | "h" => "c",
        "cc" | "cpp" | "cxx" | "hpp" => "cpp",
        "kt" | "kts" => "kotlin",
        "swift" => "swift",
        "scala" => "scala",
        "dart" => "dart",
        "tf" | "hcl" => "hcl",
        "yml" | "yaml" => "yaml",
        "toml" => "toml",
        "ini" | "cfg" => "ini",
        "properties" => "properties",
        "sql" => "sql",
        "lua" => "lua",
        "html" | "htm" => "html",
        "xml" | "csproj" | "config" => "xml",
        "md" => "markdown",
        "css" => "css",
        "scss" => "scss",
        _ => "",
    };
    from_id(id)
}

/// The environment variable a token assigned to `key` would live in:
/// `apiKey` and `api-key` become `API_KEY`. `None` when nothing of the key is
/// left (then the rule's id names it).
pub fn env_name(key: &str) -> Option<String> {
    let mut name = String::new();
    let mut previous_lower = false;
    for c in key.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && previous_lower && !name.ends_with('_') {
                name.push('_');
            }
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            name.push(c.to_ascii_uppercase());
        } else {
            if !name.is_empty() && !name.ends_with('_') {
                name.push('_');
            }
            previous_lower = false;
        }
    }
    let name = name.trim_matches('_');
    if name.is_empty() {
        return None;
    }
    Some(if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{name}")
    } else {
        name.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_from_keys_and_ids() {
        assert_eq!(env_name("apiKey").as_deref(), Some("API_KEY"));
        assert_eq!(env_name("GITHUB_TOKEN").as_deref(), Some("GITHUB_TOKEN"));
        assert_eq!(
            env_name("github-classic-pat").as_deref(),
            Some("GITHUB_CLASSIC_PAT")
        );
        assert_eq!(env_name("npm.authToken").as_deref(), Some("NPM_AUTH_TOKEN"));
        assert_eq!(env_name("2fa").as_deref(), Some("_2FA"));
        assert_eq!(env_name("__"), None);
    }

    #[test]
    fn languages_by_id_and_by_name() {
        assert_eq!(from_id("python").comment, Some(Comment::Line("#")));
        assert_eq!(from_path("src/app.tsx").env, Some(EnvStyle::Node));
        assert_eq!(
            from_path("deploy/.env.production").comment,
            Some(Comment::Line("#"))
        );
        assert_eq!(from_path("settings.json"), Language::default());
        assert_eq!(
            from_id("html").comment.unwrap().around("patscan:allow"),
            " <!-- patscan:allow -->"
        );
        assert_eq!(EnvStyle::PowerShell.reference("PAT"), "$env:PAT");
        assert_eq!(EnvStyle::Shell.reference("PAT"), "\"${PAT}\"");
    }
}
