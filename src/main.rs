fn main() -> std::process::ExitCode {
    patscan::cli::main()
}
