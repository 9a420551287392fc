//! The demo shop's inbox (test mode: no LINE account is contacted): a few regulars linked to
//! LINE users who wrote in — one waiting for an answer, one answered by the staff member, one
//! answered and closed yesterday — and a friend not linked to any customer yet.

use chrono::Duration;
use joren_store::{LineEvent, LineEventKind};

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
        Ok(made + 1)
    }
}
