//! The SMTP connections mail goes out on: kept open and reused between sends, with
//! `TCP_NODELAY` set. Without it a send waits for the server's delayed acknowledgement (about
//! 40 ms on Linux) before the final `.` of the message leaves — the body and the terminator are
//! two writes — which held one connection to about 25 mails a second. Plain and STARTTLS
//! connections are made here on lettre's connection API; implicit TLS (port 465) goes through
//! lettre's own pooled transport.

use std::time::{Duration, Instant};

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{SmtpSecurity, Transport};

/// How long connecting and each command may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Idle connections kept for reuse.
const MAX_IDLE: usize = 16;
/// An idle connection older than this is checked (NOOP) before it is used again.
const CHECK_AFTER: Duration = Duration::from_secs(30);

/// Why a send did not go.
#[derive(Debug)]
pub(crate) enum SendError {
    /// The server refused for good (a 5xx): do not try again.
    Permanent(String),
    /// Anything else: try later.
    Transient(String),
}

impl From<lettre::transport::smtp::Error> for SendError {
    fn from(e: lettre::transport::smtp::Error) -> Self {
        if e.is_permanent() { Self::Permanent(e.to_string()) } else { Self::Transient(e.to_string()) }
    }
}

/// The transport mail goes out on, made once per process from [`Transport`].
#[derive(Debug)]
pub enum Mailer {
    Test,
    /// Plain or STARTTLS: our pool of no-delay connections.
    Direct(Pool),
    /// Implicit TLS: lettre's pooled transport.
    Wrapped(AsyncSmtpTransport<Tokio1Executor>),
    /// The settings cannot make a transport (say, a TLS host name that is not one).
    Broken(String),
}

impl Mailer {
    pub(super) fn new(t: &Transport) -> Self {
        let Transport::Smtp { host, port, security, username, password } = t else { return Self::Test };
        let credentials = match (username, password) {
            (Some(u), Some(p)) => Some(Credentials::new(u.clone(), p.clone())),
            _ => None,
        };
        let tls = match security {
            SmtpSecurity::None => None,
            SmtpSecurity::StartTls | SmtpSecurity::Tls => match TlsParameters::new(host.clone()) {
                Ok(p) => Some(p),
                Err(e) => return Self::Broken(format!("TLS settings: {e}")),
            },
        };
        if *security == SmtpSecurity::Tls {
            let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                .tls(Tls::Wrapper(tls.expect("made above")))
                .port(*port)
                .timeout(Some(TIMEOUT));
            if let Some(c) = credentials {
                b = b.credentials(c);
            }
            return Self::Wrapped(b.build());
        }
        Self::Direct(Pool {
            host: host.clone(),
            port: *port,
            starttls: tls,
            credentials,
            idle: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// Sends one message (not in test mode: the caller handles that).
    pub(super) async fn send(&self, email: lettre::Message) -> Result<(), SendError> {
        match self {
            Self::Test => Ok(()),
            Self::Broken(e) => Err(SendError::Transient(e.clone())),
            Self::Wrapped(t) => t.send(email).await.map(|_| ()).map_err(SendError::from),
            Self::Direct(pool) => pool.send(email).await,
        }
    }
}

/// Open connections to one server, reused between sends.
pub struct Pool {
    host: String,
    port: u16,
    /// Some: upgrade with STARTTLS (required).
    starttls: Option<TlsParameters>,
    credentials: Option<Credentials>,
    idle: std::sync::Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("host", &self.host).field("port", &self.port).finish_non_exhaustive()
    }
}

impl Pool {
    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let transient = |e: String| SendError::Transient(format!("connection to {}:{}: {e}", self.host, self.port));
        let tcp = tokio::time::timeout(TIMEOUT, tokio::net::TcpStream::connect((self.host.as_str(), self.port)))
            .await
            .map_err(|_| transient("timed out".into()))?
            .map_err(|e| transient(e.to_string()))?;
        tcp.set_nodelay(true).map_err(|e| transient(e.to_string()))?;
        let hello = ClientId::default();
        let mut conn = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello).await?;
        if let Some(tls) = &self.starttls {
            if !conn.can_starttls() {
                return Err(SendError::Transient("the server does not offer STARTTLS".into()));
            }
            conn.starttls(tls.clone(), &hello).await?;
        }
        if let Some(c) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], c).await?;
        }
        Ok(conn)
    }

    /// An idle connection that still answers, or a new one; and whether it was reused.
    async fn take(&self) -> Result<(AsyncSmtpConnection, bool), SendError> {
        loop {
            let next = self.idle.lock().expect("pool lock").pop();
            match next {
                Some((mut conn, since)) => {
                    if conn.has_broken() || (since.elapsed() > CHECK_AFTER && !conn.test_connected().await) {
                        continue;
                    }
                    return Ok((conn, true));
                }
                None => return Ok((self.connect().await?, false)),
            }
        }
    }

    fn give_back(&self, conn: AsyncSmtpConnection) {
        let mut idle = self.idle.lock().expect("pool lock");
        if !conn.has_broken() && idle.len() < MAX_IDLE {
            idle.push((conn, Instant::now()));
        }
    }

    async fn send(&self, email: lettre::Message) -> Result<(), SendError> {
        let envelope = email.envelope().clone();
        let bytes = email.formatted();
        let (mut conn, reused) = self.take().await?;
        match tokio::time::timeout(TIMEOUT, conn.send(&envelope, &bytes)).await {
            Ok(Ok(_)) => {
                self.give_back(conn);
                Ok(())
            }
            // A reused connection the server had closed (no SMTP answer at all, not a 4xx):
            // once more on a new one.
            Ok(Err(e)) if reused && e.status().is_none() && conn.has_broken() => {
                let mut fresh = self.connect().await?;
                let answer = fresh.send(&envelope, &bytes).await;
                self.give_back(fresh);
                answer.map(|_| ()).map_err(SendError::from)
            }
            Ok(Err(e)) => {
                self.give_back(conn);
                Err(e.into())
            }
            Err(_) => Err(SendError::Transient("the server did not answer in time".into())),
        }
    }
}
