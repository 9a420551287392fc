//! A real SMTP server on loopback for the tests: the `mailin` crate's SMTP state machine (the
//! one `mailin-embedded` serves) behind a plain TCP listener on its own threads. It keeps
//! every message it accepts; recipients whose address starts with `bounce` are refused with
//! a permanent 550, ones starting with `busy` with a passing 451.

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, TcpListener};
use std::sync::{Arc, Mutex};

use mailin::{Action, Handler, Response, SessionBuilder, response};

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The raw message (headers and body) as sent.
    pub data: String,
}

impl Received {
    /// A header's value (first occurrence, unfolded: the line break goes, the space that
    /// begins the next line stays, as RFC 5322 unfolds).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(v) = value.as_mut()
                && (line.starts_with(' ') || line.starts_with('\t'))
            {
                v.push(' ');
                v.push_str(line.trim_start());
                continue;
            }
            if value.is_some() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case(name)
            {
                value = Some(v.trim().to_string());
            }
        }
        value
    }

    /// The subject, its RFC 2047 encoded words (`=?utf-8?b?…?=`) decoded: the space between
    /// two encoded words is not part of the text, a space next to plain words is.
    pub fn subject(&self) -> String {
        use base64::Engine;
        let raw = self.header("Subject").unwrap_or_default();
        let mut out = String::new();
        let mut last_encoded = None;
        for w in raw.split_whitespace() {
            let lower = w.to_ascii_lowercase();
            let decoded = lower.strip_prefix("=?utf-8?b?").and_then(|x| x.strip_suffix("?=")).map(|_| {
                let b64 = &w[10..w.len() - 2];
                String::from_utf8_lossy(&base64::engine::general_purpose::STANDARD.decode(b64).unwrap_or_default())
                    .into_owned()
            });
            let encoded = decoded.is_some();
            if last_encoded.is_some() && !(encoded && last_encoded == Some(true)) {
                out.push(' ');
            }
            out.push_str(&decoded.unwrap_or_else(|| w.to_string()));
            last_encoded = Some(encoded);
        }
        out
    }
}

#[derive(Clone)]
struct Collect {
    mails: Arc<Mutex<Vec<Received>>>,
    current: Option<Received>,
    /// Keep each message's text (tests read it); a benchmark keeps only the envelope.
    keep_data: bool,
}

impl Handler for Collect {
    fn rcpt(&mut self, to: &str) -> Response {
        if to.starts_with("bounce") {
            response::NO_MAILBOX
        } else if to.starts_with("busy") {
            response::INTERNAL_ERROR
        } else {
            response::OK
        }
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current = Some(Received { from: from.to_string(), to: to.to_vec(), data: String::new() });
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(m) = self.current.as_mut().filter(|_| self.keep_data) {
            m.data.push_str(&String::from_utf8_lossy(buf));
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if let Some(m) = self.current.take() {
            self.mails.lock().unwrap().push(m);
        }
        response::OK
    }
}

/// A running SMTP server.
pub struct SmtpServer {
    pub port: u16,
    mails: Arc<Mutex<Vec<Received>>>,
}

impl SmtpServer {
    pub fn start() -> Self {
        Self::start_keeping(true)
    }

    /// A server that keeps only who each message was for (a benchmark's hundred thousand
    /// mails would otherwise sit in its memory).
    pub fn start_counting() -> Self {
        Self::start_keeping(false)
    }

    fn start_keeping(keep_data: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let handler = Collect { mails: mails.clone(), current: None, keep_data };
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let _ = stream.set_nodelay(true);
                let handler = handler.clone();
                std::thread::spawn(move || {
                    let ip: IpAddr = stream.peer_addr().map(|a| a.ip()).unwrap_or([127, 0, 0, 1].into());
                    let mut session = SessionBuilder::new("joren-test-smtp").build(ip, handler);
                    let mut writer = stream.try_clone().unwrap();
                    let mut reader = BufReader::new(stream);
                    let _ = session.greeting().write_to(&mut writer);
                    let mut line = Vec::new();
                    loop {
                        line.clear();
                        if reader.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
                            break;
                        }
                        let res = session.process(&line);
                        match res.action {
                            Action::Reply => {
                                let _ = res.write_to(&mut writer);
                                let _ = writer.flush();
                            }
                            Action::Close => {
                                let _ = res.write_to(&mut writer);
                                break;
                            }
                            Action::UpgradeTls => break,
                            Action::NoReply => {}
                        }
                    }
                });
            }
        });
        Self { port, mails }
    }

    /// `smtp://127.0.0.1:PORT?security=none`
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?security=none", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.mails.lock().unwrap().clone()
    }
}
