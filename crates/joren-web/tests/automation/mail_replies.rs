//! Replies by email (issue #19, both backends): a real IMAP server on loopback (Dovecot) holds
//! the shop's mailbox. A customer answers a Joren mail: the reply lands on their timeline and
//! in the inbox without the quoted mail, found by the mail it answers even from another
//! address; read once however often the mailbox is polled; a stranger's mail is kept
//! unanswerable; out-of-office replies are left alone. The staff answer goes out threaded
//! under the customer's mail.

use super::common::imap::ImapServer;
use super::common::smtp::SmtpServer;
use super::common::{Session, backends};
use super::*;

fn mail(from: &str, message_id: &str, in_reply_to: Option<&str>, subject: &str, body: &str) -> String {
    use base64::Engine;
    let subject = format!("=?UTF-8?B?{}?=", base64::engine::general_purpose::STANDARD.encode(subject));
    let threading = in_reply_to.map(|r| format!("In-Reply-To: {r}\r\nReferences: {r}\r\n")).unwrap_or_default();
    format!(
        "From: {from}\r\nTo: info@kissa.example.jp\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n{threading}\
         Date: Mon, 7 Dec 2026 10:00:00 +0900\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    )
}

#[tokio::test]
async fn replies_by_mail_reach_the_timeline_and_the_inbox_once_and_are_answered_in_thread() {
    for b in backends() {
        let smtp = SmtpServer::start();
        let Some(imap) = ImapServer::start() else { return };
        let clock = Clock::manual(tokyo_today_at(10, 0));
        let mail_cfg = joren_app::mail::MailConfig {
            transport: joren_app::mail::MailConfig::parse_transport(&smtp.url()).unwrap(),
            from_address: "info@kissa.example.jp".into(),
            shop_name: "喫茶ジョーレン".into(),
            ..Default::default()
        };
        let imap_cfg = joren_app::mail::ImapConfig::parse(&imap.url()).unwrap();
        let config = AppConfig { clock: clock.clone(), mail: mail_cfg, imap: Some(imap_cfg), ..AppConfig::default() };
        let t = spawn_with(b, config).await;
        let c = mail_customer(&t, "hanako@example.jp", true).await;
        let id = scenario(
            &t,
            "冬のお知らせ",
            json!({"trigger": {"kind": "manual"}, "steps": [{"type": "email", "subject": "冬の新メニュー", "body": "ぜひどうぞ"}]}),
        )
        .await;
        let (_, v) = t.post(&t.staff_token, &format!("/api/v1/scenarios/{id}/enrol"), &json!({"customer_id": c})).await;
        assert_eq!(v["entered"], true);
        settle(&t).await;
        let sent = smtp.received();
        assert_eq!(sent.len(), 1, "[{b}]");
        let ours = sent[0].header("Message-ID").unwrap();

        // The customer answers from their phone's address (not the one on file): the mail it
        // answers says who it is. The quoted mail under the answer is left out.
        let body = "ありがとうございます。\r\n土曜に伺います。\r\n\r\n2026年12月7日(月) 10:00 喫茶ジョーレン <info@kissa.example.jp>:\r\n> ぜひどうぞ";
        let answer =
            mail("Hanako <hanako.mobile@example.ne.jp>", "<r1@example.ne.jp>", Some(&ours), "Re: 冬の新メニュー", body);
        imap.deliver(&answer).await;
        // A stranger, an out-of-office reply, and the same answer delivered twice.
        imap.deliver(&mail("who@example.com", "<s1@example.com>", None, "営業時間", "何時まで開いていますか")).await;
        let auto = mail("hanako@example.jp", "<ooo@example.jp>", Some(&ours), "不在", "不在です")
            .replace("MIME-Version", "Auto-Submitted: auto-replied\r\nMIME-Version");
        imap.deliver(&auto).await;
        imap.deliver(&answer).await;

        let poll = t.app.poll_mail_replies().await.unwrap();
        assert_eq!(
            (poll.read, poll.to_customers, poll.unknown, poll.skipped, poll.repeated),
            (4, 1, 1, 1, 1),
            "[{b}] {poll:?}"
        );
        let again = t.app.poll_mail_replies().await.unwrap();
        assert_eq!(again.read, 0, "[{b}] the mailbox is read from where it stopped");

        let (_, list) = t.get(&t.staff_token, "/api/v1/conversations?view=all").await;
        let items = list["items"].as_array().unwrap();
        let mine = items.iter().find(|x| x["customer_id"] == c).cloned().unwrap();
        assert_eq!((mine["channel"].as_str(), mine["messages"].as_i64()), (Some("email"), Some(1)), "[{b}] {mine}");
        let conv = mine["id"].as_i64().unwrap();
        let (_, d) = t.get(&t.staff_token, &format!("/api/v1/conversations/{conv}")).await;
        let texts: Vec<&str> = d["thread"].as_array().unwrap().iter().filter_map(|m| m["text"].as_str()).collect();
        assert!(texts.contains(&"ありがとうございます。\n土曜に伺います。"), "[{b}] without the quote: {texts:?}");
        assert_eq!(d["can_reply"], true, "[{b}]");
        let stranger = items.iter().find(|x| x["address"] == "who@example.com").cloned().unwrap();
        assert!(stranger["customer_id"].is_null(), "[{b}] {stranger}");
        let (_, sd) = t.get(&t.staff_token, &format!("/api/v1/conversations/{}", stranger["id"])).await;
        assert_eq!(
            (sd["can_reply"].as_bool(), sd["thread"][0]["text"].as_str()),
            (Some(false), Some("何時まで開いていますか"))
        );
        let (s, v) = t
            .post(&t.staff_token, &format!("/api/v1/conversations/{}/replies", stranger["id"]), &json!({"text": "x"}))
            .await;
        assert_eq!((s, v["error"]["details"][0]["code"].as_str()), (422, Some("no_email_address")), "[{b}] {v}");
        // The stranger turns out to be a customer: given the address (in any case), their mail
        // and conversation become theirs.
        let who = t.customer(json!({"family_name": "来店", "given_name": "客", "email": "Who@example.com"})).await;
        let (_, sd) = t.get(&t.staff_token, &format!("/api/v1/conversations/{}", stranger["id"])).await;
        assert_eq!((sd["customer_id"].as_i64(), sd["can_reply"].as_bool()), (Some(who), Some(true)), "[{b}] {sd}");
        assert_eq!(sd["thread"][0]["text"], "何時まで開いていますか", "[{b}] {sd}");
        let (_, tl) = t.get(&t.staff_token, &format!("/api/v1/customers/{c}/timeline")).await;
        assert!(
            tl["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["kind"] == "interaction:email" && e["title"] == "Re: 冬の新メニュー"),
            "[{b}] on the timeline: {tl}"
        );

        // The customer page offers the answer too, beside a link to the conversation.
        let session = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (_, html) = session.page(&format!("/customers/{c}")).await;
        assert!(html.contains("id=\"mail-reply-form\"") && html.contains(&format!("/inbox/{conv}/reply")), "[{b}]");

        // The answer from the inbox page: a mail threaded under the customer's.
        let (_, html) = session.page(&format!("/inbox/{conv}")).await;
        assert!(
            html.contains("id=\"reply-form\"") && !html.contains("id=\"reply-quick\""),
            "[{b}] a mail has no buttons"
        );
        let (s, _, _) =
            session.post(&format!("/inbox/{conv}/reply"), &[("key", "ui-m1"), ("text", "お待ちしております。")]).await;
        assert_eq!(s, 303, "[{b}]");
        settle(&t).await;
        let sent = smtp.received();
        assert_eq!(sent.len(), 2, "[{b}]");
        let answer = &sent[1];
        assert_eq!(answer.to, ["hanako.mobile@example.ne.jp"], "[{b}] to the address they wrote from");
        assert_eq!(answer.header("In-Reply-To").as_deref(), Some("<r1@example.ne.jp>"), "[{b}]");
        let refs = answer.header("References").unwrap();
        assert!(refs.contains(&ours) && refs.ends_with("<r1@example.ne.jp>"), "[{b}] {refs}");
        assert_eq!(answer.subject(), "Re: 冬の新メニュー", "[{b}]");
        let (_, d) = t.get(&t.staff_token, &format!("/api/v1/conversations/{conv}")).await;
        assert!(d["first_response_secs"].is_i64(), "[{b}] answered: {d}");

        // The channels page says which mailbox is read and when, and reads it on demand.
        let (s, ch) = t.get(&t.owner_token, "/api/v1/settings/channels").await;
        assert_eq!(s, 200, "[{b}] {ch}");
        assert_eq!(ch["mail_replies"]["mailbox"], "shop@127.0.0.1/INBOX", "[{b}] never the password: {ch}");
        assert!(ch["mail_replies"]["last_read_at"].is_string(), "[{b}] {ch}");
        assert!(!ch.to_string().contains(super::common::imap::PASSWORD), "[{b}]");
        assert_eq!(t.get(&t.staff_token, "/api/v1/settings/channels").await.0, 403, "[{b}] owners only");
        imap.deliver(&mail("hanako@example.jp", "<r2@example.jp>", Some(&ours), "Re: 冬の新メニュー", "もう一通"))
            .await;
        let owner = Session { t: &t, cookie: t.login_cookie("owner").await };
        let (_, html) = owner.page("/settings/channels").await;
        assert!(html.contains("id=\"mail-poll\"") && html.contains("shop@127.0.0.1/INBOX"), "[{b}]");
        let (s, location, _) = owner.post("/settings/channels/poll", &[]).await;
        assert_eq!((s, location.as_str()), (303, "/settings/channels?polled=1.1.0.0.0"), "[{b}]");
        let (_, html) = owner.page(&location).await;
        assert!(html.contains("受信しました: 1通 (顧客 1"), "[{b}] the counts worded");
        let (_, d) = t.get(&t.staff_token, &format!("/api/v1/conversations/{conv}")).await;
        assert_eq!(d["messages"], 2, "[{b}] the second mail joined the conversation: {d}");

        // The worker reads the mailbox every minute, as a job.
        let pass = t.app.work_once("w1", 100).await.unwrap();
        assert!(pass.done >= 1, "[{b}] {pass:?}");
        let job = t
            .app
            .store
            .job_by_dedupe_key(&format!(
                "mail.replies:{}",
                clock.now().with_timezone(&t.app.config.time_zone).format("%Y-%m-%dT%H:%M")
            ))
            .await
            .unwrap();
        assert_eq!(job.map(|j| j.state), Some(joren_app::jobs::JobState::Done), "[{b}]");

        // The mail server goes away: the minute's job is done all the same (tried again the
        // next minute, not a dead job a minute), and the page's "last read" stops moving.
        let (_, before) = t.get(&t.owner_token, "/api/v1/settings/channels").await;
        drop(imap);
        clock.advance(chrono::Duration::minutes(1));
        let pass = t.app.work_once("w1", 100).await.unwrap();
        assert_eq!(pass.failed, 0, "[{b}] {pass:?}");
        let (_, after) = t.get(&t.owner_token, "/api/v1/settings/channels").await;
        assert_eq!(after["mail_replies"]["last_read_at"], before["mail_replies"]["last_read_at"], "[{b}]");
        let (s, v) = t.post(&t.owner_token, "/api/v1/mail/replies/poll", &json!({})).await;
        assert_eq!(s, 400, "[{b}] {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().starts_with("IMAP: "),
            "[{b}] read by hand, the failure is said: {v}"
        );
    }
}
