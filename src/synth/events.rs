//! Turning the plan into entries: one day of drafts at a time, sorted,
//! rendered on demand so memory stays at one day whatever the total.

use chrono::DateTime;

use super::ids::stream;
use super::{
    Draft, Family, Generator, RenderCtx, Shape, SynthEvent, cloudflare, datadog, entry_id,
    event_key,
};

impl Generator {
    fn render(&self, d: &Draft) -> SynthEvent {
        let ctx = RenderCtx {
            seed: self.params.seed,
            world: &self.world,
            overrides: &self.overrides,
        };
        let actor = &self.actors[d.actor as usize];
        let id = entry_id(self.params.seed, d.key, d.shape);
        let raw = match (d.shape, d.verb.family()) {
            (Shape::CloudflareV2, Family::Cloudflare) => cloudflare::render_v2(&ctx, actor, d, &id),
            (Shape::CloudflareV1, Family::Cloudflare) => cloudflare::render_v1(&ctx, actor, d, &id),
            // Shapes follow the verb's family by construction.
            _ => datadog::render(&ctx, actor, d, &id),
        };
        SynthEvent {
            time: DateTime::from_timestamp_millis(d.time_ms).unwrap_or_default(),
            shape: d.shape,
            id,
            actor: d.actor,
            raw,
        }
    }

    /// The ordinary drafts of one day followed by its planted ones, sorted.
    fn fill_day(&self, day: u32, cumulative: &mut f64, emitted: &mut u64, out: &mut Vec<Draft>) {
        out.clear();
        let seed = self.params.seed;
        let scale_evenly = self.weight_sum <= 0.0;
        let last_day = day + 1 == self.params.days;
        for actor in 0..self.params.actors {
            let profile = &self.actors[actor as usize];
            // Systematic allocation: the running sum of weights decides each
            // cell's count, so the total is exact without storing all cells.
            *cumulative += if scale_evenly {
                1.0
            } else {
                self.cell_weight(actor, day)
            };
            let denominator = if scale_evenly {
                f64::from(self.params.actors) * f64::from(self.params.days)
            } else {
                self.weight_sum
            };
            let target = if last_day && actor + 1 == self.params.actors {
                self.total
            } else {
                ((self.total as f64 * *cumulative / denominator).floor() as u64).min(self.total)
            };
            let count = target.saturating_sub(*emitted);
            *emitted += count;
            if count == 0 {
                continue;
            }
            let mut rng = fastrand::Rng::with_seed(stream(seed, &[2, actor.into(), day.into()]));
            let times = profile.times_of_day(count as u32, &mut rng);
            for (k, tod) in times.into_iter().enumerate() {
                let (shape, verb) = self.pick_shape_and_verb(profile, &mut rng);
                out.push(Draft {
                    time_ms: Self::draft_time(shape, self.place(day, tod)),
                    key: event_key(actor, day, k as u32),
                    actor,
                    verb,
                    shape,
                    detail: rng.u64(..),
                    anomaly: None,
                });
            }
        }
        let (lo, hi) = (self.slice_start_ms(day), self.slice_start_ms(day + 1));
        out.extend(
            self.anomaly_drafts
                .iter()
                .filter(|d| d.time_ms >= lo && d.time_ms < hi)
                .cloned(),
        );
        out.sort_unstable_by_key(|d| (d.time_ms, d.key));
    }
}

/// Iterator over a generator's entries; holds one day of drafts at a time.
pub struct Events<'g> {
    generator: &'g Generator,
    day: u32,
    cumulative: f64,
    emitted: u64,
    buffer: Vec<Draft>,
    pos: usize,
}

impl<'g> Events<'g> {
    pub(super) fn new(generator: &'g Generator) -> Events<'g> {
        Events {
            generator,
            day: 0,
            cumulative: 0.0,
            emitted: 0,
            buffer: Vec::new(),
            pos: 0,
        }
    }
}

impl Iterator for Events<'_> {
    type Item = SynthEvent;

    fn next(&mut self) -> Option<SynthEvent> {
        while self.pos >= self.buffer.len() {
            if self.day >= self.generator.params.days {
                return None;
            }
            let mut buffer = std::mem::take(&mut self.buffer);
            self.generator.fill_day(
                self.day,
                &mut self.cumulative,
                &mut self.emitted,
                &mut buffer,
            );
            self.buffer = buffer;
            self.pos = 0;
            self.day += 1;
        }
        let draft = &self.buffer[self.pos];
        self.pos += 1;
        Some(self.generator.render(draft))
    }
}
