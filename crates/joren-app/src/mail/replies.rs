//! Replies by email: the shop's mailbox read over IMAP every minute (a job on the queue), each
//! new mail put on the timeline of the customer it answers — found by the Joren mail its
//! `In-Reply-To`/`References` name, else by the sender's address — and in the inbox as an
//! email conversation; a staff answer goes out as a mail threaded under the customer's.
//!
//! The mailbox is read from where the last poll stopped (its UIDVALIDITY and last UID, stored
//! with each mail in one transaction) and each mail is applied once by its Message-ID, so a
//! poll cut short or run by two workers at once adds nothing twice. Nothing in the mailbox is
//! changed (mails are fetched with `BODY.PEEK`).

use std::sync::Arc;

use joren_store::{MailApplied, MailReply, MailboxCursor};
use serde::Serialize;

use crate::{App, AppError, Result};

/// Mails read in one poll at most (the rest wait for the next minute).
const POLL_BATCH: usize = 200;
/// How far back the first poll of a mailbox reads.
const FIRST_POLL_DAYS: i64 = 14;
/// The longest text kept from one mail.
const MAX_TEXT: usize = 20_000;

/// Where replies are read: `imap://user:password@host:143/INBOX` or `imaps://…:993/…`.
#[derive(Clone, PartialEq, Eq)]
pub struct ImapConfig {
    pub host: String,
    pub port: u16,
    pub tls: bool,
    pub user: String,
    pub password: String,
    pub mailbox: String,
}

impl std::fmt::Debug for ImapConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}://{}@{}:{}/{}",
            if self.tls { "imaps" } else { "imap" },
            self.user,
            self.host,
            self.port,
            self.mailbox
        )
    }
}

impl ImapConfig {
    /// The mailbox as named on the channels page and in its read position:
    /// `user@host/mailbox` (never the password).
    pub fn name(&self) -> String {
        format!("{}@{}/{}", self.user, self.host, self.mailbox)
    }

    /// Reads `imap[s]://user:password@host[:port][/mailbox]` (user and password
    /// percent-encoded; the mailbox is INBOX when not given).
    pub fn parse(url: &str) -> std::result::Result<Self, String> {
        let u = reqwest::Url::parse(url).map_err(|e| format!("not an address: {e}"))?;
        let tls = match u.scheme() {
            "imaps" => true,
            "imap" => false,
            s => return Err(format!("imap:// or imaps://, not {s}://")),
        };
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        let host = u.host_str().filter(|h| !h.is_empty()).ok_or("no host")?.to_string();
        let user = decode(u.username());
        if user.is_empty() {
            return Err("no user (imaps://user:password@host/INBOX)".into());
        }
        let mailbox = decode(u.path().trim_start_matches('/'));
        Ok(Self {
            port: u.port().unwrap_or(if tls { 993 } else { 143 }),
            host,
            tls,
            user,
            password: decode(u.password().unwrap_or_default()),
            mailbox: if mailbox.is_empty() { "INBOX".into() } else { mailbox },
        })
    }
}

/// What one poll did.
#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct MailPoll {
    /// Mails read from the mailbox.
    pub read: usize,
    /// Put on a customer's timeline.
    pub to_customers: usize,
    /// From addresses no customer has (in the inbox).
    pub unknown: usize,
    /// Seen before (by Message-ID): nothing done again.
    pub repeated: usize,
    /// Not for the inbox: automatic replies, bounces, the shop's own mail.
    pub skipped: usize,
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + std::fmt::Debug> Io for T {}

/// The mailbox could not be read: said as it is (like a test mail the SMTP server refused).
fn imap_error(e: impl std::fmt::Display) -> AppError {
    AppError::Io(format!("IMAP: {e}"))
}

async fn connect(cfg: &ImapConfig) -> Result<async_imap::Session<Box<dyn Io>>> {
    let timeout = std::time::Duration::from_secs(20);
    let tcp = tokio::time::timeout(timeout, tokio::net::TcpStream::connect((cfg.host.as_str(), cfg.port)))
        .await
        .map_err(|_| imap_error("connection timed out"))?
        .map_err(imap_error)?;
    let stream: Box<dyn Io> = if cfg.tls {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from(cfg.host.clone()).map_err(imap_error)?;
        let connector = tokio_rustls::TlsConnector::from(Arc::new(tls));
        Box::new(connector.connect(name, tcp).await.map_err(imap_error)?)
    } else {
        Box::new(tcp)
    };
    let mut client = async_imap::Client::new(stream);
    client.read_response().await.map_err(imap_error)?.ok_or_else(|| imap_error("no greeting"))?;
    client.login(&cfg.user, &cfg.password).await.map_err(|(e, _)| imap_error(e))
}

/// The outbox ids of the Joren mails `ids` (Message-IDs) name: Joren's are
/// `joren.{outbox id}.{attempt}@domain`.
fn joren_ids<'a>(ids: impl Iterator<Item = &'a str>) -> Vec<i64> {
    let mut out: Vec<i64> = ids
        .filter_map(|id| id.trim_matches(['<', '>']).strip_prefix("joren.")?.split('.').next()?.parse().ok())
        .collect();
    out.dedup();
    out
}

/// Reads one raw mail; None when it is not for the inbox (an automatic reply, a bounce, the
/// shop's own mail, one without a sender).
fn read_mail(raw: &[u8], shop_address: &str, uid_ref: &str, now: chrono::DateTime<chrono::Utc>) -> Option<MailReply> {
    let msg = mail_parser::MessageParser::default().parse(raw)?;
    let from = msg.from()?.first()?.address()?.trim().to_string();
    let automatic =
        msg.header("Auto-Submitted").and_then(|h| h.as_text()).is_some_and(|v| !v.trim().eq_ignore_ascii_case("no"));
    let daemon =
        from.to_ascii_lowercase().starts_with("mailer-daemon@") || from.to_ascii_lowercase().starts_with("postmaster@");
    if automatic || daemon || from.eq_ignore_ascii_case(shop_address) {
        return None;
    }
    let list = |v: &mail_parser::HeaderValue<'_>| -> Vec<String> {
        v.as_text_list().map(|l| l.iter().map(|s| s.to_string()).collect()).unwrap_or_default()
    };
    let in_reply_to = list(msg.in_reply_to());
    let mut references = list(msg.references());
    let message_id = msg.message_id().map(str::to_string).unwrap_or_else(|| format!("no-id.{uid_ref}"));
    let refers_to = joren_ids(in_reply_to.iter().chain(references.iter()).map(String::as_str));
    if references.is_empty() {
        references = in_reply_to;
    }
    references.push(message_id.clone());
    let body = msg.body_text(0).map(|b| joren_core::reply_text::new_part(&b)).unwrap_or_default();
    let at = msg
        .date()
        .and_then(|d| chrono::DateTime::from_timestamp(d.to_timestamp(), 0))
        .filter(|d| *d <= now)
        .unwrap_or(now);
    Some(MailReply {
        message_id,
        from,
        subject: msg.subject().unwrap_or_default().chars().take(300).collect(),
        body: body.chars().take(MAX_TEXT).collect(),
        at,
        refers_to,
        references: references
            .iter()
            .map(|r| format!("<{}>", r.trim_matches(['<', '>'])))
            .collect::<Vec<_>>()
            .join(" "),
        received_at: now,
    })
}

impl App {
    /// Reads the mails that arrived in the shop's mailbox since the last poll (at most a batch);
    /// nothing when no mailbox is set.
    pub async fn poll_mail_replies(&self) -> Result<MailPoll> {
        let Some(cfg) = self.config.imap.clone() else { return Ok(MailPoll::default()) };
        let mut session = connect(&cfg).await?;
        let mailbox = session.select(&cfg.mailbox).await.map_err(imap_error)?;
        let validity = i64::from(mailbox.uid_validity.unwrap_or(0));
        let key = cfg.name();
        let cursor = self.store.mailbox_cursor(&key).await?.filter(|c| c.uid_validity == validity);
        let start = match cursor {
            Some(c) => c.last_uid + 1,
            None => {
                // A mailbox never read (or renumbered): the last two weeks' mail.
                let since = (self.now() - chrono::Duration::days(FIRST_POLL_DAYS)).format("%d-%b-%Y");
                let uids = session.uid_search(format!("SINCE {since}")).await.map_err(imap_error)?;
                uids.into_iter().min().map(i64::from).unwrap_or(i64::from(mailbox.uid_next.unwrap_or(1)))
            }
        };
        let mut mails: Vec<(i64, Vec<u8>)> = Vec::new();
        {
            use futures_util::StreamExt;
            let mut fetches = session.uid_fetch(format!("{start}:*"), "(UID BODY.PEEK[])").await.map_err(imap_error)?;
            while let Some(f) = fetches.next().await {
                let f = f.map_err(imap_error)?;
                // `n:*` names the newest mail even when it is older than n.
                if let (Some(uid), Some(body)) = (f.uid, f.body())
                    && i64::from(uid) >= start
                {
                    mails.push((i64::from(uid), body.to_vec()));
                }
            }
        }
        let _ = session.logout().await;
        mails.sort_by_key(|(uid, _)| *uid);
        mails.truncate(POLL_BATCH);
        let shop = self.mail().from_address.clone();
        let mut poll = MailPoll::default();
        if mails.is_empty() {
            // Nothing new: the read position (and when the mailbox was last read) is kept.
            let at = MailboxCursor { uid_validity: validity, last_uid: start - 1 };
            self.store.apply_mail_reply(None, Some((&key, at))).await?;
        }
        for (uid, raw) in mails {
            poll.read += 1;
            let reply = read_mail(&raw, &shop, &format!("{validity}.{uid}"), self.now());
            let at = MailboxCursor { uid_validity: validity, last_uid: uid };
            match self.store.apply_mail_reply(reply.as_ref(), Some((&key, at))).await? {
                None => poll.skipped += 1,
                Some(MailApplied::Repeated) => poll.repeated += 1,
                Some(MailApplied::Customer(_)) => poll.to_customers += 1,
                Some(MailApplied::Unknown) => poll.unknown += 1,
            }
        }
        if poll.read > 0 {
            tracing::info!(?poll, "mail replies read");
        }
        Ok(poll)
    }
}

/// What a staff answer by mail carries so it threads under the customer's mail.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub(crate) struct Threading {
    pub in_reply_to: String,
    pub references: String,
}

impl App {
    /// Queues a mail from a staff member answering customer `customer_id` (not marketing: no
    /// opt-in needed, not held by quiet hours), once per `key`. It answers their open email
    /// conversation: to the address they wrote from, threaded under their last mail
    /// (`In-Reply-To`, `References`, 「Re: 」 and its subject); without one it is a new mail
    /// from the shop to the address on file.
    pub async fn send_email_reply(
        &self,
        actor: &crate::Actor,
        customer_id: i64,
        text: &str,
        key: Option<&str>,
    ) -> Result<crate::QueuedMessage> {
        actor.require_write()?;
        let text = text.trim();
        let mut e = joren_core::FieldErrors::default();
        if text.is_empty() {
            e.push("text", joren_core::Code::Required);
        }
        e.take(joren_core::text::check_text("text", text, joren_core::text::LONG_TEXT));
        if !e.is_empty() {
            return Err(e.into());
        }
        let customer = self.store.get_customer(customer_id).await?;
        let thread = self.store.open_mail_thread(customer_id).await?;
        // The address they wrote from (it may not be the one on file), else the one on file.
        let to =
            thread.as_ref().map(|t| t.address.clone()).or(customer.profile.email.clone()).filter(|a| !a.is_empty());
        let Some(to) = to else {
            return Err(joren_core::FieldError::new("text", joren_core::Code::NoEmailAddress).into());
        };
        let cfg = self.mail();
        let subject = match &thread {
            Some(t) if t.subject.to_ascii_lowercase().starts_with("re:") => t.subject.clone(),
            Some(t) if !t.subject.trim().is_empty() => format!("Re: {}", t.subject.trim()),
            _ => format!("{}より", cfg.shop_name),
        };
        let threading = thread.map(|t| Threading {
            in_reply_to: format!("<{}>", t.message_id.trim_matches(['<', '>'])),
            references: t.references,
        });
        let body = format!("{text}{}", self.mail_footer(false, ""));
        let m = joren_store::NewMessage {
            customer_id,
            channel: "email".into(),
            marketing: false,
            recipient: to,
            subject,
            body_html: joren_core::template::text_to_html(&body),
            body_text: body,
            not_before_ms: self.config.clock.now_ms(),
            test_mode: cfg.test_mode() || self.config.mail_test_only,
            payload: threading.map(|t| serde_json::to_string(&t).expect("plain strings")),
        };
        self.queue_staff_message(actor, m, key, "customer.email_reply").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_addresses_are_read_with_their_defaults() {
        let c = ImapConfig::parse("imaps://shop%40example.jp:p%40ss@imap.example.jp/Replies").unwrap();
        assert_eq!((c.user.as_str(), c.password.as_str(), c.port, c.tls), ("shop@example.jp", "p@ss", 993, true));
        assert_eq!(c.mailbox, "Replies");
        let c = ImapConfig::parse("imap://u:p@127.0.0.1:1143").unwrap();
        assert_eq!((c.port, c.tls, c.mailbox.as_str()), (1143, false, "INBOX"));
        assert!(ImapConfig::parse("pop3://u@h").is_err());
        assert!(ImapConfig::parse("imap://h/INBOX").is_err(), "no user");
        assert!(!format!("{c:?}").contains(":p@"), "the password is never printed");
    }

    #[test]
    fn a_reply_is_read_with_what_it_answers() {
        let raw = "From: =?UTF-8?B?5bGx55Sw?= <Hanako@Example.jp>\r\nTo: shop@example.jp\r\nSubject: Re: =?UTF-8?B?44K744O844Or?=\r\n\
                   Message-ID: <r1@example.jp>\r\nIn-Reply-To: <joren.42.1@example.jp>\r\nReferences: <a@x> <joren.42.1@example.jp>\r\n\
                   Date: Sun, 6 Dec 2026 10:00:00 +0900\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
                   行きます\r\n\r\n> セール\r\n";
        let now = chrono::Utc::now();
        let m = read_mail(raw.as_bytes(), "shop@example.jp", "1.1", now).unwrap();
        assert_eq!(
            (m.message_id.as_str(), m.from.as_str(), m.subject.as_str()),
            ("r1@example.jp", "Hanako@Example.jp", "Re: セール")
        );
        assert_eq!(m.body, "行きます");
        assert_eq!(m.refers_to, [42]);
        assert_eq!(m.references, "<a@x> <joren.42.1@example.jp> <r1@example.jp>");
        let auto = raw.replace("Subject:", "Auto-Submitted: auto-replied\r\nSubject:");
        assert!(read_mail(auto.as_bytes(), "shop@example.jp", "1.2", now).is_none(), "an out-of-office reply");
        let own = raw.replace("Hanako@Example.jp", "shop@example.jp");
        assert!(read_mail(own.as_bytes(), "shop@example.jp", "1.3", now).is_none(), "the shop's own mail");
    }
}
