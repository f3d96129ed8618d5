//! Where to post, as whom, and how to vote: from flags first, then the variables the
//! Jenkins Gerrit Trigger plugin sets.

use std::fmt;

use super::GerritError;

/// The command-line flags that name the change; each one overrides its variable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetArgs {
    /// `--gerrit-url`, else `GERRIT_API_URL`, else built from the trigger's variables.
    pub url: Option<String>,
    /// `--gerrit-project`, else `GERRIT_PROJECT`.
    pub project: Option<String>,
    /// `--gerrit-change`, else `GERRIT_CHANGE_NUMBER`.
    pub change: Option<u64>,
    /// `--gerrit-revision`, else `GERRIT_PATCHSET_REVISION`.
    pub revision: Option<String>,
}

/// The revision a review is posted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Gerrit's base address, `https://gerrit.example.org` or with its context path
    /// (`https://example.org/r`), without a trailing slash and without credentials.
    pub url: String,
    /// The project's name, `puppet/modules` (encoded when it goes into a URL).
    pub project: String,
    pub change: u64,
    /// The patch set's commit (or anything Gerrit takes as a revision: a patch set number,
    /// `current`).
    pub revision: String,
}

impl Target {
    /// The target from the flags, else the environment.
    pub fn from_env(args: &TargetArgs) -> Result<Target, GerritError> {
        Target::resolve(args, env)
    }

    /// The target from the flags, else from `lookup` (a variable's value by name; empty
    /// values count as unset).
    pub fn resolve(
        args: &TargetArgs,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Target, GerritError> {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut missing = Vec::new();

        let url = match args.url.clone().or_else(|| var("GERRIT_API_URL")) {
            Some(url) => Some(base_url(&url)?),
            None => trigger_url(&var)?,
        };
        if url.is_none() {
            missing.push(
                "GERRIT_API_URL (or --gerrit-url): Gerrit's web address, like \
                 https://gerrit.example.org; the trigger's GERRIT_SCHEME/GERRIT_HOST/GERRIT_PORT \
                 describe its SSH port and GERRIT_CHANGE_URL is not set either"
                    .to_string(),
            );
        }
        let project = args.project.clone().or_else(|| var("GERRIT_PROJECT"));
        if project.is_none() {
            missing.push("GERRIT_PROJECT (or --gerrit-project)".to_string());
        }
        let change = match args.change {
            Some(n) => Some(n),
            None => match var("GERRIT_CHANGE_NUMBER") {
                Some(text) => Some(text.trim().parse::<u64>().map_err(|_| {
                    GerritError::Config(format!(
                        "GERRIT_CHANGE_NUMBER is `{text}`, not a change number"
                    ))
                })?),
                None => None,
            },
        };
        if change.is_none() {
            missing.push("GERRIT_CHANGE_NUMBER (or --gerrit-change)".to_string());
        }
        let revision = args
            .revision
            .clone()
            .or_else(|| var("GERRIT_PATCHSET_REVISION"));
        if revision.is_none() {
            missing.push("GERRIT_PATCHSET_REVISION (or --gerrit-revision)".to_string());
        }
        match (url, project, change, revision) {
            (Some(url), Some(project), Some(change), Some(revision)) => Ok(Target {
                url,
                project: project.trim().to_string(),
                change,
                revision: revision.trim().to_string(),
            }),
            _ => Err(GerritError::Config(format!(
                "cannot tell which change to review: set {}",
                missing.join("; ")
            ))),
        }
    }

    /// `project~number`, encoded for a URL path: `puppet%2Fmodules~1234`.
    pub fn change_id(&self) -> String {
        format!("{}~{}", encode(&self.project), self.change)
    }

    /// `{url}/a/changes/{project}~{number}/revisions/{revision}`, authenticated.
    pub fn revision_url(&self) -> String {
        format!(
            "{}/a/changes/{}/revisions/{}",
            self.url,
            self.change_id(),
            encode(&self.revision)
        )
    }
}

/// Everything but unreserved characters is encoded, `/` included, as Gerrit wants in
/// `{project}~{number}`.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, PATH_SEGMENT).to_string()
}

/// A user-given base address, checked: http(s), no credentials, no query; no trailing `/`.
fn base_url(text: &str) -> Result<String, GerritError> {
    let text = text.trim();
    let url = url::Url::parse(text).map_err(|err| {
        GerritError::Config(format!(
            "the Gerrit URL `{}` is not a URL ({err}): give its web address, like https://gerrit.example.org",
            without_userinfo(text)
        ))
    })?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(GerritError::Config(format!(
            "the Gerrit URL `{}` is not http(s): the REST API is on Gerrit's web address, like https://gerrit.example.org",
            without_userinfo(text)
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(GerritError::Config(
            "the Gerrit URL carries credentials: take them out of it and set \
             GERRIT_HTTP_USER and GERRIT_HTTP_PASSWORD instead"
                .to_string(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(GerritError::Config(format!(
            "the Gerrit URL `{text}` has a query or a fragment: give only its base address"
        )));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// For messages about a URL that may carry a password: `https://***@host/…`.
fn without_userinfo(text: &str) -> String {
    match (text.find("://"), text.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***{}", &text[..scheme], &text[at..])
        }
        _ => text.to_string(),
    }
}

/// The base address from the trigger's variables. `GERRIT_SCHEME`, `GERRIT_HOST` and
/// `GERRIT_PORT` describe the connection the trigger listens on, which is SSH (port
/// 29418) unless the server is configured for HTTP; only an http(s) scheme is usable.
/// Else the web address is taken from `GERRIT_CHANGE_URL`.
fn trigger_url(var: &impl Fn(&str) -> Option<String>) -> Result<Option<String>, GerritError> {
    if let (Some(scheme), Some(host)) = (var("GERRIT_SCHEME"), var("GERRIT_HOST")) {
        let scheme = scheme.trim().to_ascii_lowercase();
        if scheme == "http" || scheme == "https" {
            let url = match var("GERRIT_PORT") {
                Some(port) => format!("{scheme}://{}:{}", host.trim(), port.trim()),
                None => format!("{scheme}://{}", host.trim()),
            };
            return base_url(&url).map(Some);
        }
    }
    Ok(var("GERRIT_CHANGE_URL").and_then(|url| from_change_url(&url)))
}

/// Gerrit's base address from a change's web address: `https://g.example.org/r/c/puppet/+/123`,
/// `https://g.example.org/123` or `https://g.example.org/#/c/123/`.
fn from_change_url(text: &str) -> Option<String> {
    let mut url = url::Url::parse(text.trim()).ok()?;
    if !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    url.set_query(None);
    url.set_fragment(None);
    let path = url.path().to_string();
    let base = if let Some(at) = path.find("/c/") {
        &path[..at]
    } else {
        let trimmed = path.trim_end_matches('/');
        match trimmed.rsplit_once('/') {
            // `https://host/#/c/123/`: the change was in the fragment.
            None => "",
            Some((head, last)) if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) => {
                head
            }
            Some(_) => return None,
        }
    };
    url.set_path(base);
    base_url(url.as_str()).ok()
}

/// The account that posts, from `GERRIT_HTTP_USER` and `GERRIT_HTTP_PASSWORD`. Its `Debug`
/// shows the user only; it has no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    user: String,
    password: String,
}

impl Credentials {
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials {
            user: user.into(),
            password: password.into(),
        }
    }

    pub fn from_env() -> Result<Credentials, GerritError> {
        Credentials::resolve(env)
    }

    /// The credentials from `lookup` (a variable's value by name).
    pub fn resolve(lookup: impl Fn(&str) -> Option<String>) -> Result<Credentials, GerritError> {
        let user = lookup("GERRIT_HTTP_USER").filter(|v| !v.trim().is_empty());
        let password = lookup("GERRIT_HTTP_PASSWORD").filter(|v| !v.is_empty());
        match (user, password) {
            (Some(user), Some(password)) => Ok(Credentials::new(user.trim(), password)),
            (user, password) => {
                let missing: Vec<&str> = [
                    user.is_none().then_some("GERRIT_HTTP_USER"),
                    password.is_none().then_some("GERRIT_HTTP_PASSWORD"),
                ]
                .into_iter()
                .flatten()
                .collect();
                Err(GerritError::Config(format!(
                    "cannot log in to Gerrit: set {} (the account's name and its HTTP \
                     password, or token, from Settings > HTTP Credentials in Gerrit; in Jenkins, \
                     a username-with-password credential bound with withCredentials)",
                    missing.join(" and ")
                )))
            }
        }
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub(crate) fn password(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Whom Gerrit emails about the review (`notify` in ReviewInput).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Notify {
    None,
    Owner,
    OwnerReviewers,
    All,
}

impl std::str::FromStr for Notify {
    type Err = GerritError;

    fn from_str(text: &str) -> Result<Notify, GerritError> {
        match text.trim().to_ascii_uppercase().as_str() {
            "NONE" => Ok(Notify::None),
            "OWNER" => Ok(Notify::Owner),
            "OWNER_REVIEWERS" => Ok(Notify::OwnerReviewers),
            "ALL" => Ok(Notify::All),
            _ => Err(GerritError::Config(format!(
                "--gerrit-notify `{text}`: expected NONE, OWNER, OWNER_REVIEWERS or ALL"
            ))),
        }
    }
}

/// How to vote and what to link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The label voted on (`Verified`).
    pub label: String,
    /// The vote when every case passed (+1).
    pub pass_value: i32,
    /// The vote otherwise (-1).
    pub fail_value: i32,
    /// Whom Gerrit notifies; Gerrit's default when `None`.
    pub notify: Option<Notify>,
    /// The Jenkins build, linked from the message (`BUILD_URL`).
    pub build_url: Option<String>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            label: "Verified".to_string(),
            pass_value: 1,
            fail_value: -1,
            notify: None,
            build_url: None,
        }
    }
}

impl Options {
    /// The defaults, with `BUILD_URL` from the environment.
    pub fn from_env() -> Options {
        Options {
            build_url: env("BUILD_URL").filter(|v| !v.trim().is_empty()),
            ..Options::default()
        }
    }

    /// Checks what a user may get wrong: an empty label name, a passing vote that is not
    /// above the failing one.
    pub fn validate(&self) -> Result<(), GerritError> {
        if self.label.trim().is_empty() {
            return Err(GerritError::Config(
                "--gerrit-label is empty: name the label to vote on, like Verified".to_string(),
            ));
        }
        if self.pass_value <= self.fail_value {
            return Err(GerritError::Config(format!(
                "the passing vote ({}) must be above the failing one ({})",
                self.pass_value, self.fail_value
            )));
        }
        Ok(())
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const TRIGGER: &[(&str, &str)] = &[
        ("GERRIT_SCHEME", "ssh"),
        ("GERRIT_HOST", "gerrit.example.org"),
        ("GERRIT_PORT", "29418"),
        (
            "GERRIT_CHANGE_URL",
            "https://gerrit.example.org/r/c/puppet/modules/+/3456",
        ),
        ("GERRIT_PROJECT", "puppet/modules"),
        ("GERRIT_CHANGE_NUMBER", "3456"),
        (
            "GERRIT_PATCHSET_REVISION",
            "0123456789abcdef0123456789abcdef01234567",
        ),
    ];

    #[test]
    fn the_trigger_alone_is_enough() {
        let target = Target::resolve(&TargetArgs::default(), vars(TRIGGER)).unwrap();
        assert_eq!(
            target,
            Target {
                url: "https://gerrit.example.org/r".into(),
                project: "puppet/modules".into(),
                change: 3456,
                revision: "0123456789abcdef0123456789abcdef01234567".into(),
            }
        );
        assert_eq!(
            target.revision_url(),
            "https://gerrit.example.org/r/a/changes/puppet%2Fmodules~3456/revisions/0123456789abcdef0123456789abcdef01234567"
        );
    }

    #[test]
    fn flags_override_variables_and_the_api_url_overrides_the_trigger() {
        let mut pairs = TRIGGER.to_vec();
        pairs.push(("GERRIT_API_URL", "https://review.internal:8443/"));
        let args = TargetArgs {
            url: None,
            project: Some("other".into()),
            change: Some(7),
            revision: Some("current".into()),
        };
        let target = Target::resolve(&args, vars(&pairs)).unwrap();
        assert_eq!(target.url, "https://review.internal:8443");
        assert_eq!(target.project, "other");
        assert_eq!(target.change, 7);
        assert_eq!(target.revision, "current");

        let args = TargetArgs {
            url: Some("http://localhost:8080".into()),
            ..TargetArgs::default()
        };
        assert_eq!(
            Target::resolve(&args, vars(&pairs)).unwrap().url,
            "http://localhost:8080"
        );
    }

    #[test]
    fn an_http_trigger_builds_the_url_from_scheme_host_and_port() {
        let target = Target::resolve(
            &TargetArgs::default(),
            vars(&[
                ("GERRIT_SCHEME", "https"),
                ("GERRIT_HOST", "gerrit.example.org"),
                ("GERRIT_PORT", "8443"),
                ("GERRIT_PROJECT", "p"),
                ("GERRIT_CHANGE_NUMBER", "1"),
                ("GERRIT_PATCHSET_REVISION", "abc"),
            ]),
        )
        .unwrap();
        assert_eq!(target.url, "https://gerrit.example.org:8443");
    }

    #[test]
    fn change_urls_give_the_base_address() {
        for (change_url, base) in [
            (
                "https://g.example.org/c/puppet/modules/+/3456",
                "https://g.example.org",
            ),
            (
                "https://g.example.org/r/c/p/+/3456/2",
                "https://g.example.org/r",
            ),
            ("https://g.example.org/3456", "https://g.example.org"),
            ("https://g.example.org/r/3456/", "https://g.example.org/r"),
            ("https://g.example.org/#/c/3456/", "https://g.example.org"),
        ] {
            assert_eq!(
                from_change_url(change_url).as_deref(),
                Some(base),
                "{change_url}"
            );
        }
        assert_eq!(
            from_change_url("https://g.example.org/dashboard/self"),
            None
        );
    }

    #[test]
    fn missing_settings_are_named_all_at_once() {
        let err = Target::resolve(
            &TargetArgs::default(),
            vars(&[("GERRIT_SCHEME", "ssh"), ("GERRIT_CHANGE_NUMBER", "")]),
        )
        .unwrap_err()
        .to_string();
        for name in [
            "GERRIT_API_URL (or --gerrit-url)",
            "GERRIT_PROJECT (or --gerrit-project)",
            "GERRIT_CHANGE_NUMBER (or --gerrit-change)",
            "GERRIT_PATCHSET_REVISION (or --gerrit-revision)",
        ] {
            assert!(err.contains(name), "{name} not in: {err}");
        }
    }

    #[test]
    fn a_bad_change_number_or_url_is_named() {
        let mut pairs = TRIGGER.to_vec();
        // A Change-Id where the number belongs; the later entry wins.
        pairs.push((
            "GERRIT_CHANGE_NUMBER",
            "I8473b95934b5732ac55d26311a706c9c2bde9940",
        ));
        let err = Target::resolve(&TargetArgs::default(), vars(&pairs)).unwrap_err();
        assert!(
            err.to_string().contains("GERRIT_CHANGE_NUMBER is `I8473b"),
            "{err}"
        );

        let args = TargetArgs {
            url: Some("ssh://gerrit.example.org:29418".into()),
            ..TargetArgs::default()
        };
        let err = Target::resolve(&args, vars(TRIGGER)).unwrap_err();
        assert!(err.to_string().contains("is not http(s)"), "{err}");
    }

    #[test]
    fn a_url_with_credentials_is_refused_without_echoing_them() {
        let args = TargetArgs {
            url: Some("https://jenkins:s3cret@gerrit.example.org".into()),
            ..TargetArgs::default()
        };
        let err = Target::resolve(&args, vars(TRIGGER))
            .unwrap_err()
            .to_string();
        assert!(err.contains("GERRIT_HTTP_USER"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
        assert_eq!(
            without_userinfo("https://u:s3cret@h/x"),
            "https://***@h/x".to_string()
        );
    }

    #[test]
    fn credentials_come_from_the_environment_and_hide_the_password() {
        let creds = Credentials::resolve(vars(&[
            ("GERRIT_HTTP_USER", "jenkins"),
            ("GERRIT_HTTP_PASSWORD", "s3cret"),
        ]))
        .unwrap();
        assert_eq!(creds.user(), "jenkins");
        let debug = format!("{creds:?} {creds:#?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(debug.contains("jenkins"));

        let err = Credentials::resolve(vars(&[("GERRIT_HTTP_USER", "jenkins")])).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("set GERRIT_HTTP_PASSWORD ("), "{text}");
        assert!(!text.contains("GERRIT_HTTP_USER and"), "{text}");
    }

    #[test]
    fn notify_and_votes_are_checked() {
        assert_eq!(
            "owner_reviewers".parse::<Notify>().unwrap(),
            Notify::OwnerReviewers
        );
        assert!("everyone".parse::<Notify>().is_err());
        assert_eq!(
            serde_json::to_string(&Notify::OwnerReviewers).unwrap(),
            "\"OWNER_REVIEWERS\""
        );
        assert!(Options::default().validate().is_ok());
        let options = Options {
            pass_value: 0,
            fail_value: 0,
            ..Options::default()
        };
        assert!(options.validate().is_err());
    }
}
