//! A real IMAP server on loopback for one test: Dovecot (Debian's `dovecot-imapd`, installed by
//! `.ci/run`) started in the foreground with its own configuration, mailbox and user in a
//! temporary directory, on a free port; stopped when dropped. Mail is put in the mailbox with
//! IMAP APPEND, as a mail server would deliver it.

use std::process::{Child, Command, Stdio};

pub const USER: &str = "shop";
pub const PASSWORD: &str = "imap-pass-for-tests";

pub struct ImapServer {
    pub port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl ImapServer {
    /// Starts Dovecot. Without it installed the test is not run (a loud note), except under
    /// `CI=true`, where it fails.
    pub fn start() -> Option<Self> {
        let found =
            ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"].into_iter().find(|p| std::path::Path::new(p).exists());
        let Some(dovecot) = found else {
            let why = "Dovecot is needed for the mail-reply tests: apt-get install dovecot-imapd (.ci/run does)";
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
            eprintln!("NOTE: the mail-reply test was NOT run. {why}");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        for sub in ["run", "state", "home"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        // The mail user (Dovecot's own) writes the mailbox under home/.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path().join("home"), std::fs::Permissions::from_mode(0o777)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.path().join("passwd"), format!("{USER}:{{PLAIN}}{PASSWORD}\n")).unwrap();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let conf = format!(
            "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\nprotocols = imap\n\
             listen = 127.0.0.1\nssl = no\nfirst_valid_uid = 1\ndisable_plaintext_auth = no\nauth_mechanisms = plain login\n\
             default_internal_user = dovecot\ndefault_internal_group = dovecot\ndefault_login_user = dovenull\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid=dovecot gid=dovecot home={d}/home/%u\n}}\n\
             mail_location = maildir:~/Maildir\n\
             service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  \
             inet_listener imaps {{\n    port = 0\n  }}\n  chroot =\n}}\n\
             service anvil {{\n  chroot =\n}}\n"
        );
        let conf_path = dir.path().join("dovecot.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new(dovecot)
            .arg("-F")
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting Dovecot");
        let server = Self { port, child, _dir: dir };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(server);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let log = std::fs::read_to_string(format!("{d}/dovecot.log")).unwrap_or_default();
        panic!("Dovecot did not start on {port}: {log}");
    }

    /// The address Joren reads the mailbox at.
    pub fn url(&self) -> String {
        format!("imap://{USER}:{PASSWORD}@127.0.0.1:{}/INBOX", self.port)
    }

    /// What Dovecot logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("dovecot.log")).unwrap_or_default()
    }

    /// Delivers `raw` (a whole mail, CRLF line ends) into the INBOX.
    pub async fn deliver(&self, raw: &str) {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap();
        let mut session = match client.login(USER, PASSWORD).await {
            Ok(s) => s,
            Err((e, _)) => panic!("IMAP login: {e}; Dovecot said:\n{}", self.log()),
        };
        if let Err(e) = session.append("INBOX", None, None, raw.as_bytes()).await {
            panic!("IMAP APPEND: {e}; Dovecot said:\n{}", self.log());
        }
        session.logout().await.unwrap();
    }
}

impl Drop for ImapServer {
    fn drop(&mut self) {
        // SIGTERM lets Dovecot stop its own children.
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}
