//! The `rehearsal` command; everything it does lives in the library.

fn main() -> std::process::ExitCode {
    rehearsal::cli::main()
}
