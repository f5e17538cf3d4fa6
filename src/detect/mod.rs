//! Detection: bytes in, validated tokens out.
//!
//! [`rules`] are data (`rules/*.toml`, embedded at build time) compiled into
//! one matcher; the [`engine`] runs its single literal prefilter pass and the
//! rules' regexes around the hits (and a dedicated scan over the base64 and
//! base32 [`runs`] for prefix-less formats); each candidate is then accepted
//! or dropped by the rule's validator ([`rules::validate`]): an issuer
//! [`checksum`] where the format has one, else entropy and placeholder filters
//! (and, for the opt-in keyword-assignment rules, the [`generic`] filters),
//! or for a structured format (private keys, JWTs, connection strings) its
//! [`parse`]r. Around a token whose issuer scopes it to one instance,
//! [`context`] notes the instance named nearby, for a later live check.

pub mod checksum;
pub mod context;
pub mod engine;
pub mod generic;
pub mod parse;
pub mod precedence;
pub mod rules;
pub mod runs;
pub mod testdata;
