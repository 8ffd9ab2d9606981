use std::process::ExitCode;

fn main() -> ExitCode {
    soc_tui::cli::main()
}
