//! `soc-tui setup` end to end: the real binary in a tmux pane, answering
//! the wizard's prompts with keystrokes (secrets typed at hidden prompts),
//! against loopback fakes of Cloudflare, Datadog, Confluence and Linear.
//! The secrets land in a real Secret Service: the pane runs inside a
//! private `dbus-run-session` with an unlocked `gnome-keyring-daemon`, as
//! in `keyring_secret_service.rs`.
//!
//! Two answers are wrong on purpose: the Datadog API key (the fake refuses
//! it) and the Confluence space key (no such space). The final report must
//! name each problem and its fix, and report the other services ok; the
//! Linear team is given by its key and stored as its id; the config file
//! keeps the user's comment; no secret reaches the screen or the file.
//!
//! Needs tmux, dbus-run-session, gnome-keyring-daemon and secret-tool:
//! without them the test says so and passes, except under `CI=true`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use common::fake_server::{FakeServer, Received, Reply, reply};
use common::unavailable;

const TOOLS: [&str; 4] = [
    "tmux",
    "dbus-run-session",
    "gnome-keyring-daemon",
    "secret-tool",
];
const ACCOUNT: &str = "0123456789abcdef0123456789abcdef";
const TEAM: &str = "9cfb482a-81e3-4154-b5b9-2c805e70a02d";
const CF_TOKEN: &str = "SENTINEL-cf-token-8a7b";
const DD_API_KEY_RIGHT: &str = "SENTINEL-dd-api-right";
const DD_API_KEY_WRONG: &str = "SENTINEL-dd-api-wrong-5c4d";
const DD_APP_KEY: &str = "SENTINEL-dd-app-3e2f";
const WIKI_TOKEN: &str = "SENTINEL-wiki-1a0b";
const LINEAR_KEY: &str = "SENTINEL-lin-9c8d";
const STEP_WAIT: Duration = Duration::from_secs(30);

/// Runs in the tmux pane, inside the private D-Bus session.
const PANE_SCRIPT: &str = r#"
printf '%s\n' "$KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1 \
    || echo "gnome-keyring-daemon --unlock failed"
"$SOC_TUI_BIN" --config "$SOC_CONFIG" --data-dir "$SOC_DATA" setup
echo "setup exited $?"
secret-tool lookup service soc-tui username cloudflare >"$OUT/cloudflare.secret" 2>&1
"$SOC_TUI_BIN" --config "$SOC_CONFIG" --data-dir "$SOC_DATA" doctor --json >"$OUT/doctor.json" 2>"$OUT/doctor.stderr"
echo "doctor exited $?"
sleep 600
"#;

struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("running tmux")
    }

    /// The pane with its scrollback, wrapped lines joined.
    fn screen(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-J", "-S", "-500", "-t", "setup"]);
        assert!(out.status.success(), "capture-pane: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn wait_for(&self, what: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(what) {
                return screen;
            }
            assert!(
                start.elapsed() < STEP_WAIT,
                "waited {STEP_WAIT:?} for {what:?}; the pane:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for the prompt, then types `answer` and Enter.
    fn answer(&self, prompt: &str, answer: &str) {
        self.wait_for(prompt);
        if !answer.is_empty() {
            let out = self.run(&["send-keys", "-t", "setup", "-l", answer]);
            assert!(out.status.success(), "send-keys: {out:?}");
        }
        let out = self.run(&["send-keys", "-t", "setup", "Enter"]);
        assert!(out.status.success(), "send-keys Enter: {out:?}");
        // The next prompt must not be mistaken for this one still on screen.
        std::thread::sleep(Duration::from_millis(200));
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
}

fn json_reply(status: u16, body: &Value) -> Reply {
    reply(
        status,
        &[("content-type", "application/json")],
        &body.to_string(),
    )
}

/// Cloudflare, Datadog, Confluence and Linear, each checking the credential
/// it is sent like the real service.
async fn fakes() -> FakeServer {
    FakeServer::serve(|request: &Received| {
        let header = |name: &str| request.header(name).unwrap_or("");
        match request.path() {
            p if p.ends_with("/logs/audit") => {
                if header("authorization") != format!("Bearer {CF_TOKEN}") {
                    return json_reply(403, &json!({"success": false, "errors": [{"code": 10000, "message": "Authentication error"}]}));
                }
                json_reply(
                    200,
                    &json!({"success": true, "errors": [], "messages": [], "result": [],
                            "result_info": {"count": "0", "cursor": ""}}),
                )
            }
            "/api/v2/audit/events" | "/api/v1/validate" => {
                if header("dd-api-key") != DD_API_KEY_RIGHT {
                    return json_reply(403, &json!({"errors": ["Forbidden"]}));
                }
                json_reply(200, &json!({"data": [], "meta": {}}))
            }
            "/wiki/api/v2/spaces" => {
                let found = request.query("keys").as_deref() == Some("SEC");
                let results = if found {
                    json!([{"id": "98304", "key": "SEC"}])
                } else {
                    json!([])
                };
                json_reply(200, &json!({"results": results}))
            }
            "/graphql" => {
                if header("authorization") != LINEAR_KEY {
                    return json_reply(
                        400,
                        &json!({"errors": [{"message": "Authentication required, not authenticated",
                                            "extensions": {"type": "authentication error"}}]}),
                    );
                }
                json_reply(
                    200,
                    &json!({"data": {"teams": {"nodes": [{"id": TEAM, "key": "SEC", "name": "Security"}]}}}),
                )
            }
            other => json_reply(404, &json!({"message": format!("fake: no route {other}")})),
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wizard_in_tmux_names_each_problem_and_its_fix() {
    let missing: Vec<&str> = TOOLS.into_iter().filter(|t| !on_path(t)).collect();
    if !missing.is_empty() {
        unavailable(&format!(
            "{} not found; install the Debian packages tmux dbus gnome-keyring libsecret-tools",
            missing.join(", ")
        ));
        return;
    }
    let server = fakes().await;
    let base = server.base();
    let root = tempfile::tempdir().unwrap();
    let home = root.path().join("home");
    let out = root.path().join("out");
    let runtime = root.path().join("runtime");
    for dir in [
        &home.join(".local/share"),
        &home.join(".config"),
        &out,
        &runtime,
    ] {
        std::fs::create_dir_all(dir).unwrap();
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let config = home.join(".config/soc-tui.toml");
    std::fs::write(
        &config,
        format!(
            "# install notes: the fakes of this test\n\
             [cloudflare]\napi_base = \"{base}/client/v4\" # loopback\nv1_fallback = false\n\n\
             [datadog]\napi_base = \"{base}\"\n\n\
             [linear]\napi_url = \"{base}/graphql\"\n\n\
             [http]\nconnect_timeout = \"2s\"\nrequest_timeout = \"5s\"\nmax_retries = 0\n"
        ),
    )
    .unwrap();

    let tmux = Tmux {
        socket: root.path().join("tmux.sock"),
    };
    let var = |name: &str, value: &Path| format!("{name}={}", value.display());
    let command = [
        "env".to_owned(),
        "-i".to_owned(),
        format!("PATH={}", std::env::var("PATH").unwrap_or_default()),
        var("HOME", &home),
        var("XDG_DATA_HOME", &home.join(".local/share")),
        var("XDG_CONFIG_HOME", &home.join(".config")),
        var("XDG_RUNTIME_DIR", &runtime),
        "LC_ALL=C.UTF-8".to_owned(),
        "TERM=xterm-256color".to_owned(),
        "KEYRING_PASSWORD=soc-tui-test-keyring".to_owned(),
        format!("SOC_TUI_BIN={}", env!("CARGO_BIN_EXE_soc-tui")),
        var("SOC_CONFIG", &config),
        var("SOC_DATA", &home.join("data")),
        var("OUT", &out),
        "dbus-run-session".to_owned(),
        "--".to_owned(),
        "sh".to_owned(),
        "-c".to_owned(),
        shell_quote(PANE_SCRIPT),
    ]
    .join(" ");
    let started = tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "setup",
        "-x",
        "200",
        "-y",
        "50",
        &command,
    ]);
    assert!(started.status.success(), "tmux new-session: {started:?}");

    let wizard = tokio::task::spawn_blocking(move || {
        tmux.answer("Account ids", ACCOUNT);
        tmux.answer("(cloudflare) [", CF_TOKEN);
        tmux.answer("or the API's base URL", "");
        tmux.answer("(datadog-api-key) [", DD_API_KEY_WRONG);
        tmux.answer("(datadog-app-key) [", DD_APP_KEY);
        tmux.answer("Wiki base URL", &format!("{base}/wiki"));
        tmux.answer("Space key", "NOPE");
        tmux.answer("Parent page id", "");
        tmux.answer("Atlassian account email", "soc@example.com");
        tmux.answer("(confluence) [", WIKI_TOKEN);
        tmux.answer("(linear) [", LINEAR_KEY);
        tmux.answer("Team: its key", "SEC");
        tmux.answer("Open PagerDuty incidents", "");
        tmux.answer("S3 bucket", "");
        tmux.answer("Dataset holding the audit events", "");
        tmux.wait_for("setup exited");
        tmux.wait_for("doctor exited")
    });
    let screen = wizard.await.expect("the wizard ran");

    assert!(
        screen.contains(&format!("team SEC (Security) is {TEAM}")),
        "{screen}"
    );
    assert!(
        screen.contains("stored cloudflare in the OS keychain"),
        "{screen}"
    );
    assert!(screen.contains("setup exited 2"), "{screen}");
    let row = |service: &str| {
        screen
            .lines()
            .skip_while(|l| !l.starts_with("SERVICE"))
            .find(|l| l.starts_with(&format!("{service} ")))
            .unwrap_or_else(|| panic!("no {service} row in the report:\n{screen}"))
            .to_owned()
    };
    let fix_after = |service: &str| {
        let mut lines = screen
            .lines()
            .skip_while(|l| !l.starts_with("SERVICE"))
            .skip_while(|l| !l.starts_with(&format!("{service} ")));
        lines.next();
        lines.next().unwrap_or("").trim().to_owned()
    };
    assert!(row("cloudflare").contains(" ok "), "{screen}");
    assert!(row("linear").contains(" ok "), "{screen}");
    assert!(row("archive").contains(" ok "), "{screen}");
    let datadog = row("datadog");
    assert!(
        datadog.contains("not authenticated") && datadog.contains("rejected the API key"),
        "{screen}"
    );
    assert!(
        fix_after("datadog")
            .starts_with("fix: store the right one with `soc-tui auth set datadog-api-key`"),
        "{screen}"
    );
    let confluence = row("confluence");
    assert!(
        confluence.contains("misconfigured") && confluence.contains("no space with key NOPE"),
        "{screen}"
    );
    assert!(
        fix_after("confluence").contains("confluence.space_key"),
        "{screen}"
    );
    assert!(
        screen.contains("2 configured services need attention"),
        "{screen}"
    );

    let written = std::fs::read_to_string(&config).unwrap();
    assert!(
        written.starts_with("# install notes: the fakes of this test"),
        "{written}"
    );
    assert!(written.contains("# loopback"), "{written}");
    assert!(
        written.contains(&format!("account_ids = [\"{ACCOUNT}\"]")),
        "{written}"
    );
    assert!(
        written.contains(&format!("team_id = \"{TEAM}\"")),
        "{written}"
    );
    assert!(written.contains("space_key = \"NOPE\""), "{written}");
    for secret in [
        CF_TOKEN,
        DD_API_KEY_WRONG,
        DD_APP_KEY,
        WIKI_TOKEN,
        LINEAR_KEY,
    ] {
        assert!(
            !screen.contains(secret),
            "{secret} reached the screen:\n{screen}"
        );
        assert!(
            !written.contains(secret),
            "{secret} reached the config file"
        );
    }

    // The token is in the Secret Service, and the doctor reads it from there.
    let stored = std::fs::read_to_string(out.join("cloudflare.secret")).unwrap();
    assert_eq!(stored.trim_end(), CF_TOKEN);
    let doctor: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("doctor.json")).unwrap())
            .expect("doctor --json");
    let status = |service: &str| {
        doctor["checks"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["service"] == service))
            .map(|c| c["status"].clone())
            .unwrap_or_default()
    };
    assert_eq!(status("cloudflare"), "ok", "{doctor:#}");
    assert_eq!(status("linear"), "ok", "{doctor:#}");
    assert_eq!(status("datadog"), "not_authenticated", "{doctor:#}");
    assert_eq!(status("confluence"), "misconfigured", "{doctor:#}");
    assert!(screen.contains("doctor exited 2"), "{screen}");
}

/// `'text'` for sh, with any `'` closed, escaped and reopened.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
