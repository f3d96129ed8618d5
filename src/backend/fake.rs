//! A scripted engine, for fast tests of what drives the engine (the runner's dispatch,
//! the snapshot layers) without one: containers are entries in a table, and each command
//! run in a container answers what the test scripted for that container and that kind of
//! command (an apply that exits 2 then 0, one that hangs until it is cancelled, …).
//! Tests of behaviour on a real engine stay in `tests/`; this only stands in for timing
//! and failures a real engine cannot be made to produce on demand.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use super::{
    Backend, BackendError, ByteStream, ContainerConfig, ContainerInfo, ExecOutput, ImageInfo,
    ImageSummary, Result,
};
use crate::labels;

/// The kinds of command the harness runs in a container, told apart by their words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// The readiness wait (`systemctl is-system-running`, the facts).
    Ready,
    /// A `puppet apply`.
    Apply,
    /// The probe, or anything else.
    Other,
}

impl Command {
    fn of(cmd: &[&str]) -> Command {
        let text = cmd.join(" ");
        if text.contains("puppet apply") || (cmd.contains(&"puppet") && cmd.contains(&"apply")) {
            Command::Apply
        } else if text.contains("systemctl is-system-running") {
            Command::Ready
        } else {
            Command::Other
        }
    }
}

/// What a command answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// It ran and exited so, printing `stdout`.
    Exit { code: i64, stdout: String },
    /// The same, `after` this long (on tokio's clock: paused in tests).
    After { after: Duration, code: i64 },
    /// It never ends: only dropping the call (the run cancelling it) stops it.
    Hang,
    /// The engine failed to run it.
    Fail(String),
}

impl Reply {
    pub fn exit(code: i64) -> Reply {
        Reply::Exit {
            code,
            stdout: String::new(),
        }
    }
}

/// Which containers a script is for.
type Matcher = Box<dyn Fn(&ContainerConfig) -> bool + Send + Sync>;

/// The containers of a case, by its name (the `rehearsal.case` label).
pub fn case(name: &str) -> Matcher {
    let name = name.to_string();
    Box::new(move |c| c.labels.get(labels::CASE) == Some(&name))
}

/// The snapshot build containers of a platform.
pub fn build_on(platform: &str) -> Matcher {
    let platform = platform.to_string();
    Box::new(move |c| {
        c.labels.get(labels::ROLE).map(String::as_str) == Some(labels::ROLE_BUILD)
            && c.hostname.ends_with(&format!("-{platform}"))
    })
}

struct Script {
    matcher: Matcher,
    command: Command,
    /// Answered in order; the last one again and again.
    replies: VecDeque<Reply>,
}

struct Container {
    config: ContainerConfig,
}

#[derive(Default)]
struct State {
    next_id: usize,
    containers: BTreeMap<String, Container>,
    images: HashMap<String, ImageInfo>,
    scripts: Vec<Script>,
    /// Starts that fail as an unreachable engine's: for whom, the message, how many more
    /// times (`usize::MAX`: for ever).
    start_failures: Vec<(Matcher, String, usize)>,
    /// Pings that fail, counted down (`usize::MAX`: for ever).
    failing_pings: usize,
    /// What every container's init printed (for a container that did not come up).
    init_output: String,
    /// Every command run: the container's name and the kind of command.
    execs: Vec<(String, Command)>,
}

/// The scripted engine. Unscripted commands exit 0; every image added with
/// [`FakeBackend::with_image`] (or committed) exists.
#[derive(Default)]
pub struct FakeBackend(Mutex<State>);

impl FakeBackend {
    pub fn new() -> FakeBackend {
        FakeBackend::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().expect("the fake engine's state")
    }

    /// An image the engine has (a platform's).
    pub fn with_image(self, name: &str) -> FakeBackend {
        self.state().images.insert(
            name.to_string(),
            ImageInfo {
                id: format!("sha256:{name}"),
                labels: HashMap::new(),
                created: String::new(),
                size: 0,
            },
        );
        self
    }

    /// Every container's init (systemd) printed this.
    pub fn init_prints(self, text: &str) -> FakeBackend {
        self.state().init_output = text.to_string();
        self
    }

    /// The `command`s of the containers `matcher` picks answer `replies` in order (the
    /// last one again and again).
    pub fn script(self, matcher: Matcher, command: Command, replies: Vec<Reply>) -> FakeBackend {
        self.state().scripts.push(Script {
            matcher,
            command,
            replies: replies.into(),
        });
        self
    }

    /// Starting the containers `matcher` picks fails `times` times (`usize::MAX`: every
    /// time) as an unreachable engine would.
    pub fn unreachable_start(self, matcher: Matcher, message: &str, times: usize) -> FakeBackend {
        self.state()
            .start_failures
            .push((matcher, message.to_string(), times));
        self
    }

    /// The next `count` pings fail (`usize::MAX`: every one).
    pub fn failing_pings(self, count: usize) -> FakeBackend {
        self.state().failing_pings = count;
        self
    }

    /// A container of someone else (another run), there before the test.
    pub fn with_container(self, name: &str, labels: &[(&str, &str)]) -> FakeBackend {
        self.state().containers.insert(
            name.to_string(),
            Container {
                config: ContainerConfig {
                    image: String::new(),
                    name: name.to_string(),
                    hostname: String::new(),
                    labels: labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    mounts: vec![],
                    limits: crate::spec::limits::Limits::DEFAULT,
                    network: crate::spec::limits::Network::Default,
                },
            },
        );
        self
    }

    /// The ids of the containers that exist now.
    pub fn containers_now(&self) -> Vec<String> {
        self.state().containers.keys().cloned().collect()
    }

    /// The case label of a container, by id.
    pub fn case_of(&self, id: &str) -> Option<String> {
        let state = self.state();
        let container = state.containers.get(id)?;
        container.config.labels.get(labels::CASE).cloned()
    }

    /// Every command run so far: the container's name and the kind of command.
    pub fn execs(&self) -> Vec<(String, Command)> {
        self.state().execs.clone()
    }

    /// The reply to a `command` in the container `id`, taken from its script.
    fn reply(&self, id: &str, command: Command) -> Result<Reply> {
        let mut state = self.state();
        let Some(container) = state.containers.get(id) else {
            return Err(BackendError::Operation {
                operation: "run a command in the container",
                message: format!("No such container: {id}"),
            });
        };
        let config = container.config.clone();
        state.execs.push((config.name.clone(), command));
        let script = state
            .scripts
            .iter_mut()
            .find(|s| s.command == command && (s.matcher)(&config));
        Ok(match script {
            Some(script) if script.replies.len() > 1 => script.replies.pop_front().unwrap(),
            Some(script) => script.replies.front().cloned().unwrap_or(Reply::exit(0)),
            None => Reply::exit(0),
        })
    }
}

impl Backend for FakeBackend {
    fn info(&self) -> super::EngineInfo {
        super::EngineInfo::test()
    }

    async fn start(&self, config: &ContainerConfig) -> Result<String> {
        let mut state = self.state();
        let failure = state
            .start_failures
            .iter_mut()
            .find(|(matches, _, times)| *times > 0 && matches(config));
        if let Some((_, message, times)) = failure {
            if *times != usize::MAX {
                *times -= 1;
            }
            return Err(BackendError::Unreachable(message.clone()));
        }
        if state
            .containers
            .values()
            .any(|c| c.config.name == config.name)
        {
            return Err(BackendError::NameInUse(config.name.clone()));
        }
        state.next_id += 1;
        let id = format!("c{}", state.next_id);
        state.containers.insert(
            id.clone(),
            Container {
                config: config.clone(),
            },
        );
        Ok(id)
    }

    async fn exec(&self, id: &str, cmd: &[&str]) -> Result<ExecOutput> {
        let reply = self.reply(id, Command::of(cmd))?;
        let (code, stdout) = match reply {
            Reply::Exit { code, stdout } => (code, stdout),
            Reply::After { after, code } => {
                tokio::time::sleep(after).await;
                (code, String::new())
            }
            Reply::Hang => std::future::pending().await,
            Reply::Fail(message) => {
                return Err(BackendError::Operation {
                    operation: "run a command in the container",
                    message,
                })
            }
        };
        Ok(ExecOutput {
            exit_code: code,
            stdout: stdout.into_bytes(),
            stderr: Vec::new(),
        })
    }

    async fn ping(&self) -> Result<()> {
        let mut state = self.state();
        match state.failing_pings {
            0 => Ok(()),
            usize::MAX => Err(BackendError::Unreachable("no answer".into())),
            _ => {
                state.failing_pings -= 1;
                Err(BackendError::Unreachable("no answer".into()))
            }
        }
    }

    async fn remove(&self, id: &str) -> Result<()> {
        let mut state = self.state();
        let found = state
            .containers
            .iter()
            .find(|(key, c)| *key == id || c.config.name == id)
            .map(|(key, _)| key.clone());
        if let Some(key) = found {
            state.containers.remove(&key);
        }
        Ok(())
    }

    async fn containers_labelled(&self, wanted: &[(&str, &str)]) -> Result<Vec<String>> {
        let state = self.state();
        Ok(state
            .containers
            .iter()
            .filter(|(_, c)| {
                wanted
                    .iter()
                    .all(|(k, v)| c.config.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(id, _)| id.clone())
            .collect())
    }

    async fn container(&self, name: &str) -> Result<Option<ContainerInfo>> {
        let state = self.state();
        Ok(state
            .containers
            .iter()
            .find(|(id, c)| *id == name || c.config.name == name)
            .map(|(id, c)| ContainerInfo {
                id: id.clone(),
                labels: c.config.labels.clone(),
                running: true,
            }))
    }

    async fn commit(&self, _id: &str, name: &str, labels: HashMap<String, String>) -> Result<()> {
        self.state().images.insert(
            name.to_string(),
            ImageInfo {
                id: format!("sha256:{name}"),
                labels,
                created: String::new(),
                size: 0,
            },
        );
        Ok(())
    }

    async fn images_labelled(
        &self,
        _labels: &[(&str, &str)],
        _dangling: bool,
    ) -> Result<Vec<ImageSummary>> {
        Ok(Vec::new())
    }

    async fn remove_image(&self, name: &str) -> Result<()> {
        self.state().images.remove(name);
        Ok(())
    }

    async fn init_output(&self, _id: &str, _lines: usize) -> Result<String> {
        Ok(self.state().init_output.clone())
    }

    async fn image(&self, name: &str) -> Result<Option<ImageInfo>> {
        Ok(self.state().images.get(name).cloned())
    }

    async fn import_rootfs(
        &self,
        _tar: ByteStream,
        _name: &str,
        _meta: &crate::backend::ImageMeta,
    ) -> Result<()> {
        Ok(())
    }

    async fn build_image(
        &self,
        _context: ByteStream,
        _name: &str,
        _labels: HashMap<String, String>,
        _progress: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<()> {
        Ok(())
    }
}
