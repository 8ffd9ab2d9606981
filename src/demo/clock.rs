//! Demo time: the scenario is written in script seconds (the attack at
//! t+10s, the webhook at t+45s); `--speed` divides them, and the engine's
//! cadences with them, so a faster demo tells the same story sooner.

use std::time::Duration;

use tokio::time::Instant;

use super::DemoError;

/// `--speed`: how many script seconds pass per real second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Speed(f64);

impl Speed {
    pub const MIN: f64 = 0.1;
    pub const MAX: f64 = 1000.0;

    pub fn new(speed: f64) -> Result<Speed, DemoError> {
        if speed.is_finite() && (Speed::MIN..=Speed::MAX).contains(&speed) {
            Ok(Speed(speed))
        } else {
            Err(DemoError::Speed(speed))
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }

    /// The real time a script span takes at this speed.
    pub fn scale(self, script: Duration) -> Duration {
        script.div_f64(self.0)
    }

    /// [`Speed::scale`], but never below `floor`: cadences shorter than a
    /// few hundred milliseconds only burn CPU.
    pub fn scale_at_least(self, script: Duration, floor: Duration) -> Duration {
        self.scale(script).max(floor)
    }
}

impl std::str::FromStr for Speed {
    type Err = String;

    fn from_str(text: &str) -> Result<Speed, String> {
        let value: f64 = text
            .trim()
            .parse()
            .map_err(|_| format!("{text:?} is not a number"))?;
        Speed::new(value).map_err(|e| e.to_string())
    }
}

/// Script time for one run, starting when the clock is created.
#[derive(Debug, Clone, Copy)]
pub struct ScenarioClock {
    origin: Instant,
    speed: Speed,
}

impl ScenarioClock {
    pub fn start(speed: Speed) -> ScenarioClock {
        ScenarioClock {
            origin: Instant::now(),
            speed,
        }
    }

    pub fn speed(&self) -> Speed {
        self.speed
    }

    /// Waits until script time `offset` (returns at once if it has passed).
    pub async fn sleep_until(&self, offset: Duration) {
        tokio::time::sleep_until(self.origin + self.speed.scale(offset)).await;
    }

    /// Script time elapsed so far.
    pub fn elapsed(&self) -> Duration {
        self.origin.elapsed().mul_f64(self.speed.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_divides_script_time_and_rejects_nonsense() {
        let ten = Speed::new(10.0).unwrap();
        assert_eq!(
            ten.scale(Duration::from_secs(45)),
            Duration::from_millis(4500)
        );
        assert_eq!(
            ten.scale_at_least(Duration::from_secs(1), Duration::from_millis(250)),
            Duration::from_millis(250)
        );
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 5000.0] {
            assert!(Speed::new(bad).is_err(), "{bad}");
        }
        assert_eq!("2.5".parse::<Speed>().unwrap().get(), 2.5);
        assert!("fast".parse::<Speed>().is_err());
    }

    #[tokio::test]
    async fn sleeping_follows_the_speed() {
        let clock = ScenarioClock::start(Speed::new(1000.0).unwrap());
        let before = Instant::now();
        clock.sleep_until(Duration::from_secs(45)).await;
        assert!(
            before.elapsed() >= Duration::from_millis(44),
            "{:?}",
            before.elapsed()
        );
        assert!(clock.elapsed() >= Duration::from_secs(45));
    }
}
