//! The demo shop's inbox (test mode: no LINE account, SMS gateway or mail server is
//! contacted): a few regulars linked to LINE users who wrote in — one waiting for an answer,
//! one answered by the staff member, one answered and closed yesterday — a friend not linked
//! to any customer yet; two replies by mail, one answered in its thread; and a text.

use chrono::Duration;
use joren_store::{LineEvent, LineEventKind, MailReply, SmsInbound};

use crate::line::LineMessageInput;
use crate::{Actor, App, Result};

/// One made-up conversation.
struct DemoConversation {
    /// Which customer (an index into the demo's customers).
    customer: usize,
    minutes_ago: i64,
    said: &'static [&'static str],
    answer: Option<&'static str>,
    closed: bool,
}

const CONVERSATIONS: [DemoConversation; 3] = [
    DemoConversation {
        customer: 3,
        minutes_ago: 35,
        said: &["明日の午後、2名で伺えますか？"],
        answer: None,
        closed: false,
    },
    DemoConversation {
        customer: 11,
        minutes_ago: 180,
        said: &["先日のブレンド、とても美味しかったです", "同じものをまた200gお願いできますか"],
        answer: Some("ありがとうございます！ご来店までにご用意しておきますね。"),
        closed: false,
    },
    DemoConversation {
        customer: 19,
        minutes_ago: 26 * 60,
        said: &["ポイントの有効期限を教えてください"],
        answer: Some("来年3月末までご利用いただけます。"),
        closed: true,
    },
];

impl App {
    /// Writes the demo's LINE conversations; answers how many conversations it made.
    pub(super) async fn demo_inbox(&self, ids: &[i64], staff: (i64, &str)) -> Result<usize> {
        let system = Actor::system("demo");
        let clerk = Actor { user_id: Some(staff.0), name: staff.1.to_string(), role: joren_core::role::Role::Staff };
        let now = self.now();
        let event = |id: String, user: &str, at: chrono::DateTime<chrono::Utc>, kind: LineEventKind| LineEvent {
            event_id: id,
            line_user_id: user.to_string(),
            at,
            kind,
            link_code: None,
            received_at: now,
        };
        let text = |body: &str| LineEventKind::Message { kind: "text".into(), body: body.into() };
        let mut made = 0;
        for (n, d) in CONVERSATIONS.iter().enumerate() {
            let Some(&customer) = ids.get(d.customer) else { continue };
            let user = format!("U{:032x}", 0x00de_0000 + n);
            self.link_line_user(&system, customer, &user).await?;
            let start = now - Duration::minutes(d.minutes_ago);
            let follow = event(format!("demo-follow-{n}"), &user, start - Duration::days(30), LineEventKind::Follow);
            self.store.apply_line_event(&follow).await?;
            for (i, words) in d.said.iter().enumerate() {
                let at = start + Duration::minutes(i as i64 * 2);
                self.store.apply_line_event(&event(format!("demo-msg-{n}-{i}"), &user, at, text(words))).await?;
            }
            if let Some(a) = d.answer {
                // From the customer page: the conversation becomes the clerk's.
                let input = LineMessageInput { text: a.to_string(), ..Default::default() };
                self.send_line_message(&clerk, customer, input, Some(&format!("demo-answer-{n}"))).await?;
            }
            if d.closed {
                let open = self.customer_conversations(customer).await?.into_iter().find(|c| c.state == "open");
                if let Some(c) = open {
                    self.set_conversation_open(&clerk, c.id, false).await?;
                }
            }
            made += 1;
        }
        let stranger = format!("U{:032x}", 0x00de_ffff_u64);
        let at = now - Duration::minutes(90);
        self.store
            .apply_line_event(&event("demo-stranger-follow".into(), &stranger, at, LineEventKind::Follow))
            .await?;
        let hello = text("はじめまして。日曜日は何時まで開いていますか？");
        self.store
            .apply_line_event(&event("demo-stranger-msg".into(), &stranger, at + Duration::minutes(1), hello))
            .await?;
        Ok(made + 1 + self.demo_mail_and_sms(ids, &clerk).await?)
    }

    /// Two customers who answered the shop's mail (one answered back in the thread) and one
    /// who texted; answers how many conversations it made.
    async fn demo_mail_and_sms(&self, ids: &[i64], clerk: &Actor) -> Result<usize> {
        let now = self.now();
        let mut made = 0;
        let mut wrote = 0;
        let mails: [(&str, &str, Option<&str>); 2] = [
            ("Re: 冬の新メニューのご案内", "ホットワインはいつまで飲めますか？", None),
            (
                "Re: ご注文ありがとうございました",
                "届きました。丁寧な包装をありがとうございます。次はギフト用にもう一つお願いしたいです。",
                Some("ありがとうございます。ギフト包装でご用意いたします。お届け先をお知らせください。"),
            ),
        ];
        for &id in ids.iter().skip(30) {
            let Some((subject, body, answer)) = mails.get(wrote).copied() else { break };
            let customer = self.store.get_customer(id).await?;
            let Some(address) = customer.profile.email.clone() else { continue };
            let at = now - Duration::minutes(50 + 120 * wrote as i64);
            let m = MailReply {
                message_id: format!("demo-reply-{wrote}@example.jp"),
                from: address,
                subject: subject.into(),
                body: body.into(),
                at,
                refers_to: Vec::new(),
                references: format!("<demo-reply-{wrote}@example.jp>"),
                received_at: now,
            };
            self.store.apply_mail_reply(Some(&m), None).await?;
            if let Some(a) = answer {
                self.send_email_reply(clerk, id, a, Some(&format!("demo-mail-answer-{wrote}"))).await?;
            }
            wrote += 1;
            made += 1;
        }
        for &id in ids.iter().skip(40) {
            let customer = self.store.get_customer(id).await?;
            let Some(phone) = customer.profile.phone.filter(|p| joren_core::phone::can_receive_sms(p)) else {
                continue;
            };
            let text = SmsInbound {
                message_id: "demo-sms-1".into(),
                phone,
                body: "今日は何時まで営業していますか？".into(),
                at: now - Duration::minutes(12),
                consent: None,
                received_at: now,
            };
            self.store.apply_sms_inbound(&text).await?;
            made += 1;
            break;
        }
        Ok(made)
    }
}
