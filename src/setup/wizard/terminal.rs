//! Plain prompts on a line-oriented terminal: works in any shell, a tmux
//! pane, or with answers piped in. Secrets are read without echo from the
//! terminal when there is one, else as one line of the input.

use std::io::{self, BufRead, IsTerminal, Write};

use zeroize::Zeroize;

use crate::secrets::Secret;

/// Room for any API key, so `read_line` never reallocates and leaves a copy behind.
const SECRET_CAPACITY: usize = 4096;

/// Where the wizard asks its questions.
pub trait Prompter {
    /// Prints `prompt` and reads one answer, without its line ending and
    /// surrounding spaces. `None` when the input has ended.
    fn ask(&mut self, prompt: &str) -> io::Result<Option<String>>;

    /// As [`ask`](Self::ask), without echo when on a terminal. Only the line
    /// ending is removed.
    fn ask_secret(&mut self, prompt: &str) -> io::Result<Option<Secret>>;

    /// Prints one line.
    fn say(&mut self, line: &str) -> io::Result<()>;
}

/// Questions on `output`, answers from `input`; with `hide_secrets`,
/// secrets come from the controlling terminal through rpassword instead.
pub struct LinePrompter<R, W> {
    input: R,
    output: W,
    hide_secrets: bool,
}

impl<R: BufRead, W: Write> LinePrompter<R, W> {
    pub fn new(input: R, output: W, hide_secrets: bool) -> LinePrompter<R, W> {
        LinePrompter {
            input,
            output,
            hide_secrets,
        }
    }

    pub fn into_output(self) -> W {
        self.output
    }
}

/// The process's stdin and stdout; secrets hidden when stdin is a terminal.
pub fn stdio() -> LinePrompter<io::StdinLock<'static>, io::Stdout> {
    let hide = io::stdin().is_terminal();
    LinePrompter::new(io::stdin().lock(), io::stdout(), hide)
}

impl<R: BufRead, W: Write> Prompter for LinePrompter<R, W> {
    fn ask(&mut self, prompt: &str) -> io::Result<Option<String>> {
        write!(self.output, "{prompt}")?;
        self.output.flush()?;
        let mut line = String::new();
        if self.input.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        Ok(Some(line.trim().to_owned()))
    }

    fn ask_secret(&mut self, prompt: &str) -> io::Result<Option<Secret>> {
        if self.hide_secrets {
            self.output.flush()?;
            return rpassword::prompt_password(prompt).map(|value| Some(Secret::new(value)));
        }
        write!(self.output, "{prompt}")?;
        self.output.flush()?;
        let mut line = String::with_capacity(SECRET_CAPACITY);
        match self.input.read_line(&mut line) {
            Ok(0) => Ok(None),
            Ok(_) => {
                if line.ends_with('\n') {
                    line.pop();
                    if line.ends_with('\r') {
                        line.pop();
                    }
                }
                // Piped input shows nothing on the screen; end the prompt's line.
                writeln!(self.output)?;
                Ok(Some(Secret::new(line)))
            }
            Err(err) => {
                line.zeroize();
                Err(err)
            }
        }
    }

    fn say(&mut self, line: &str) -> io::Result<()> {
        writeln!(self.output, "{line}")
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    #[test]
    fn answers_are_trimmed_and_secrets_keep_inner_spaces() {
        let input = Cursor::new(b"  SEC  \r\n tok en \r\n".to_vec());
        let mut prompter = LinePrompter::new(input, Vec::new(), false);
        assert_eq!(prompter.ask("Space: ").unwrap().as_deref(), Some("SEC"));
        let secret = prompter.ask_secret("Token: ").unwrap().unwrap();
        assert_eq!(secret.expose(), " tok en ");
        assert_eq!(prompter.ask("More: ").unwrap(), None);
        assert!(prompter.ask_secret("Again: ").unwrap().is_none());
        let shown = String::from_utf8(prompter.into_output()).unwrap();
        assert!(shown.starts_with("Space: Token: \n"), "{shown:?}");
        assert!(!shown.contains("tok en"), "{shown:?}");
    }
}
