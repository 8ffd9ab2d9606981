//! The verdict editor: verdict, confidence, summary, next step and free text
//! of a draft, edited with ratatui-textarea, with a diff against the AI's
//! original. Everything typed or pasted goes through the sanitizer first.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};
use ratatui_textarea::TextArea;

use super::diff::{self, DiffOp};
use super::keys::KeyInput;
use super::model::{DraftFields, DraftId, SafeText, Verdict};
use super::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Verdict,
    Confidence,
    Summary,
    NextStep,
    FreeText,
}

impl Field {
    const ORDER: [Field; 5] = [
        Field::Verdict,
        Field::Confidence,
        Field::Summary,
        Field::NextStep,
        Field::FreeText,
    ];

    fn label(self) -> &'static str {
        match self {
            Field::Verdict => "Verdict",
            Field::Confidence => "Confidence (0-1)",
            Field::Summary => "Summary",
            Field::NextStep => "Next step",
            Field::FreeText => "Notes",
        }
    }
}

#[derive(Debug, Clone)]
pub struct VerdictEditor {
    pub draft: DraftId,
    pub title: SafeText,
    pub verdict: Verdict,
    pub confidence: TextArea<'static>,
    pub summary: TextArea<'static>,
    pub next_step: TextArea<'static>,
    pub free_text: TextArea<'static>,
    pub focus: Field,
    pub show_diff: bool,
    /// Why the fields cannot be kept yet (bad confidence).
    pub error: Option<String>,
    pub ai_original: DraftFields,
}

fn textarea(text: &SafeText) -> TextArea<'static> {
    let mut area = TextArea::new(text.lines().map(str::to_owned).collect());
    area.set_cursor_line_style(Style::new());
    area
}

impl VerdictEditor {
    pub fn new(
        draft: DraftId,
        title: SafeText,
        current: &DraftFields,
        ai_original: DraftFields,
    ) -> VerdictEditor {
        VerdictEditor {
            draft,
            title,
            verdict: current.verdict,
            confidence: textarea(&SafeText::new(&format!("{:.2}", current.confidence))),
            summary: textarea(&current.summary),
            next_step: textarea(&current.next_step),
            free_text: textarea(&current.free_text),
            focus: Field::Verdict,
            show_diff: false,
            error: None,
            ai_original,
        }
    }

    pub fn on_verdict_field(&self) -> bool {
        self.focus == Field::Verdict
    }

    pub fn next_field(&mut self, back: bool) {
        let i = Field::ORDER
            .iter()
            .position(|f| *f == self.focus)
            .unwrap_or(0);
        let n = Field::ORDER.len();
        self.focus = Field::ORDER[if back { (i + n - 1) % n } else { (i + 1) % n }];
    }

    fn focused_text(&mut self) -> Option<&mut TextArea<'static>> {
        match self.focus {
            Field::Verdict => None,
            Field::Confidence => Some(&mut self.confidence),
            Field::Summary => Some(&mut self.summary),
            Field::NextStep => Some(&mut self.next_step),
            Field::FreeText => Some(&mut self.free_text),
        }
    }

    /// A key the keymap did not claim: typed into the focused text field.
    /// Characters are sanitized, so a pasted escape stays visible text.
    pub fn input(&mut self, key: KeyInput) {
        let single_line = self.focus == Field::Confidence;
        let Some(area) = self.focused_text() else {
            return;
        };
        match key.key {
            super::keys::Key::Char(c) if key.is_text() => {
                area.insert_str(SafeText::new(c.encode_utf8(&mut [0; 4])).as_str());
            }
            super::keys::Key::Enter if single_line => {}
            _ => {
                area.input(key.to_textarea());
            }
        }
        self.error = None;
    }

    pub fn paste(&mut self, text: &str) {
        let single_line = self.focus == Field::Confidence;
        let Some(area) = self.focused_text() else {
            return;
        };
        let clean = if single_line {
            SafeText::new(text)
        } else {
            SafeText::multiline(text)
        };
        area.insert_str(clean.as_str());
    }

    /// The edited fields, or why they are not valid.
    pub fn fields(&self) -> Result<DraftFields, String> {
        let raw = self.confidence.lines().join("");
        let confidence: f32 = raw
            .trim()
            .parse()
            .ok()
            .filter(|c: &f32| (0.0..=1.0).contains(c))
            .ok_or_else(|| {
                format!(
                    "confidence `{}` must be a number from 0 to 1",
                    SafeText::with_limit(raw.trim(), 20)
                )
            })?;
        let text = |area: &TextArea| SafeText::multiline(&area.lines().join("\n"));
        Ok(DraftFields {
            verdict: self.verdict,
            confidence,
            summary: text(&self.summary),
            next_step: text(&self.next_step),
            free_text: text(&self.free_text),
        })
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        Clear.render(area, buf);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.popup_border())
            .title(Span::styled(
                format!(
                    " Edit verdict · {} {} ",
                    self.title,
                    if self.show_diff {
                        "· diff against the AI draft"
                    } else {
                        ""
                    }
                ),
                theme.title(true),
            ))
            .style(theme.base());
        let inner = block.inner(area);
        block.render(area, buf);
        let [body, error] = {
            let p = Layout::default()
                .direction(Direction::Vertical)
                .constraints([Constraint::Min(0), Constraint::Length(1)])
                .split(inner);
            [p[0], p[1]]
        };
        if let Some(err) = &self.error {
            Line::styled(err.as_str(), theme.error()).render(error, buf);
        }
        if self.show_diff {
            self.render_diff(body, buf, theme);
        } else {
            self.render_form(body, buf, theme);
        }
    }

    fn render_form(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let rows = Layout::default()
            .direction(Direction::Vertical)
            .constraints([
                Constraint::Length(3),
                Constraint::Length(3),
                Constraint::Min(3),
                Constraint::Min(3),
                Constraint::Min(3),
            ])
            .split(area);
        let field_block = |field: Field| {
            let focused = self.focus == field;
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border(focused))
                .title(Span::styled(field.label(), theme.title(focused)))
        };
        let verdict = Line::from(vec![
            Span::styled("◀ ", theme.muted()),
            Span::styled(
                self.verdict.label(),
                theme
                    .severity(self.verdict.severity())
                    .add_modifier(Modifier::BOLD),
            ),
            Span::styled(" ▶", theme.muted()),
        ]);
        Paragraph::new(verdict)
            .block(field_block(Field::Verdict))
            .render(rows[0], buf);
        for (i, (field, area_widget)) in [
            (Field::Confidence, &self.confidence),
            (Field::Summary, &self.summary),
            (Field::NextStep, &self.next_step),
            (Field::FreeText, &self.free_text),
        ]
        .into_iter()
        .enumerate()
        {
            let rect = rows[i + 1];
            let block = field_block(field);
            let inner = block.inner(rect);
            block.render(rect, buf);
            let mut shown = area_widget.clone();
            let cursor = if self.focus == field {
                theme.selection()
            } else {
                Style::new()
            };
            shown.set_cursor_style(cursor);
            shown.set_style(theme.text());
            (&shown).render(inner, buf);
        }
    }

    fn render_diff(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let mut lines: Vec<Line> = Vec::new();
        let current = self.fields();
        let ai = &self.ai_original;
        let header = |name: &str| Line::styled(name.to_owned(), theme.title(true));
        lines.push(header("Verdict"));
        let verdict_now = current.as_ref().map(|f| f.verdict).unwrap_or(self.verdict);
        push_diff(&mut lines, ai.verdict.label(), verdict_now.label(), theme);
        lines.push(header("Confidence"));
        let conf_now = current
            .as_ref()
            .map(|f| format!("{:.2}", f.confidence))
            .unwrap_or_else(|_| self.confidence.lines().join(""));
        push_diff(
            &mut lines,
            &format!("{:.2}", ai.confidence),
            &SafeText::new(&conf_now).to_string(),
            theme,
        );
        if let Ok(now) = &current {
            for (name, old, new) in [
                ("Summary", &ai.summary, &now.summary),
                ("Next step", &ai.next_step, &now.next_step),
                ("Notes", &ai.free_text, &now.free_text),
            ] {
                lines.push(header(name));
                push_diff(&mut lines, old.as_str(), new.as_str(), theme);
            }
        }
        Paragraph::new(lines).render(area, buf);
    }
}

fn push_diff(lines: &mut Vec<Line<'static>>, old: &str, new: &str, theme: &Theme) {
    let ops = diff::lines(old, new);
    if ops.iter().all(|op| matches!(op, DiffOp::Same(_))) {
        lines.push(Line::styled("  (unchanged)", theme.muted()));
        return;
    }
    for op in ops {
        lines.push(match op {
            DiffOp::Same(l) => Line::styled(format!("  {l}"), theme.text()),
            DiffOp::Removed(l) => Line::styled(format!("- {l}"), theme.diff(false)),
            DiffOp::Added(l) => Line::styled(format!("+ {l}"), theme.diff(true)),
        });
    }
}
