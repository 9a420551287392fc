//! The engine: events dispatched into exits, wake-ups and enrolments; the daily triggers; due runs
//! moved on step by step (waits, checks, mail into the outbox, tasks, tags, points), each in one
//! transaction fenced by its step.

use super::*;

impl App {
    /// One pass of the engine: acts on new events, moves due runs on, delivers due messages.
    pub async fn automate_once(&self) -> Result<AutomationPass> {
        self.reload_mail().await?;
        // Each phase's writer time is counted under its name (`joren_store::writer_time`).
        use joren_store::writer_label;
        let (events, enrolled) = writer_label("dispatch", self.dispatch_events()).await?;
        let steps = writer_label("advance", self.advance_due_runs()).await?;
        // Delivery batches are small (a batch is what a crash may send twice), so a pass
        // sends several rather than repeating the whole pass for each.
        let (messages, full) = writer_label("deliver", self.deliver_batches(DELIVERY_PASS_BATCHES)).await?;
        let (offered, webhooks) = writer_label("webhooks", self.deliver_webhooks()).await?;
        let more = events as i64 == DISPATCH_BATCH
            || steps as i64 >= ADVANCE_BATCH * ADVANCE_PASS_BATCHES as i64
            || full
            || crate::webhooks::more_waiting(offered, webhooks);
        Ok(AutomationPass { events, enrolled, steps, messages, webhooks, more })
    }

    /// Acts on events not yet dispatched: exits (an order, an unsubscribe), wake-ups of runs
    /// waiting for an order, and enrolments of the scenarios they trigger. Answers (events,
    /// enrolments planned).
    pub async fn dispatch_events(&self) -> Result<(usize, u64)> {
        let events = self.store.pending_events(DISPATCH_BATCH).await?;
        if events.is_empty() {
            return Ok((0, 0));
        }
        let active = self.active_definitions().await?;
        let now = self.config.clock.now_ms();
        let on_order: Vec<i64> = active.iter().filter(|(_, d)| d.exit.on_order).map(|(s, _)| s.id).collect();
        // "Leave when they unsubscribe": from a channel the scenario sends on (an email
        // scenario goes on when the customer blocks the LINE account, a LINE one stops).
        let on_unsub: Vec<(i64, Vec<&str>)> =
            active.iter().filter(|(_, d)| d.exit.on_unsubscribe).map(|(s, d)| (s.id, d.channels())).collect();
        let mut planned = 0;
        let mut out = Vec::with_capacity(events.len());
        let (mut orders_placed, mut orders_undone) = (Vec::new(), Vec::new());
        for e in &events {
            let mut fx = EventEffects::default();
            if let (Some(customer), Some(kind)) = (e.customer_id, EventKind::parse(&e.kind)) {
                match kind {
                    EventKind::OrderPlaced => {
                        fx.exits.push((customer, on_order.clone(), "ordered".into()));
                        fx.wake_for_order.push(customer);
                        if let Ok(order) = e.entity_id.parse::<i64>() {
                            orders_placed.push((customer, order));
                        }
                    }
                    EventKind::OrderCancelled | EventKind::OrderRefunded
                        if matches!(e.payload["status"].as_str(), Some("cancelled" | "refunded")) =>
                    {
                        if let Ok(order) = e.entity_id.parse::<i64>() {
                            orders_undone.push(order);
                        }
                    }
                    EventKind::SurveyAnswered => self.after_survey_answer(customer, &e.payload).await?,
                    EventKind::ConsentChanged if e.payload["granted"] == serde_json::json!(false) => {
                        let channel = e.payload["channel"].as_str().unwrap_or_default();
                        let leaving: Vec<i64> =
                            on_unsub.iter().filter(|(_, ch)| ch.contains(&channel)).map(|(id, _)| *id).collect();
                        if !leaving.is_empty() {
                            fx.exits.push((customer, leaving, "unsubscribed".into()));
                        }
                    }
                    _ => {}
                }
                for (s, d) in &active {
                    // An event from before the scenario was switched on starts nothing.
                    let after_activation = s.activated_at_ms.is_none_or(|at| e.occurred_at.timestamp_millis() >= at);
                    if after_activation && d.trigger.matches(kind, &e.payload) {
                        let (occurrence, order) = match kind {
                            EventKind::OrderPlaced => (format!("order:{}", e.entity_id), e.entity_id.parse().ok()),
                            _ => (format!("event:{}", e.id), None),
                        };
                        fx.enrol.push(enrolment(s, d, customer, occurrence, order, now));
                        planned += 1;
                    }
                }
            }
            out.push((e.id, fx));
        }
        // A referral reward goes with the order that earned it: taken back when it was
        // cancelled or wholly refunded; a referred customer's first order rewards both sides
        // (each once per referral, by the referral's state).
        self.reverse_referrals(&orders_undone).await?;
        self.reward_referrals(&orders_placed).await?;
        if self.store.apply_event_effects(&out, now).await? { Ok((events.len(), planned)) } else { Ok((0, 0)) }
    }

    /// The daily triggers for local day `day`: birthdays, N days after the first or last
    /// purchase, an expected purchase overdue, points about to expire, 回数券 nearly used up
    /// or expiring, memberships due for renewal. Each entry is keyed by what it is about (the
    /// day, the expiry date, the ticket, the period), so running it twice enrols once.
    pub async fn enrol_daily(&self, day: chrono::NaiveDate) -> Result<u64> {
        let active: Vec<_> =
            self.active_definitions().await?.into_iter().filter(|(_, d)| d.trigger.is_daily()).collect();
        if active.is_empty() {
            return Ok(0);
        }
        let now = self.config.clock.now_ms();
        let tz = self.tz();
        let mut batch = Vec::new();
        if active.iter().any(|(_, d)| by_customer_dates(&d.trigger)) {
            for (customer, first, last, birthday) in self.store.customer_dates().await? {
                for (s, d) in &active {
                    if daily_hit(&d.trigger, day, tz, first, last, birthday.as_deref()) {
                        batch.push(enrolment(s, d, customer, format!("day:{day}"), None, now));
                    }
                }
            }
        }
        for (s, d) in &active {
            for (customer, occurrence) in self.daily_candidates(&d.trigger, day).await? {
                batch.push(enrolment(s, d, customer, occurrence, None, now));
            }
        }
        // Saved segments: each one the active scenarios name checked once, its moves since
        // the last check shared by the scenarios on it.
        let mut segments: Vec<i64> = Vec::new();
        for (_, d) in &active {
            segments.extend(saved_segment_of(&d.trigger));
        }
        segments.sort_unstable();
        segments.dedup();
        for segment in segments {
            let moves = match self.segment_moves(segment).await? {
                Some((moves, members)) => {
                    self.store.save_segment_check(segment, &moves, &members, now).await?;
                    moves
                }
                None => continue,
            };
            for (s, d) in &active {
                let (who, way) = match d.trigger {
                    Trigger::SavedSegmentEntered { segment_id } if segment_id == segment => (&moves.entered, "in"),
                    Trigger::SavedSegmentLeft { segment_id } if segment_id == segment => (&moves.left, "out"),
                    _ => continue,
                };
                for c in who {
                    batch.push(enrolment(s, d, *c, format!("segment:{segment}:{way}:{day}"), None, now));
                }
            }
        }
        let mut n = 0;
        for chunk in batch.chunks(5_000) {
            n += self.store.enrol(chunk, now).await?;
        }
        Ok(n)
    }

    /// Who is in saved segment `id` now and who entered and left it since its last check
    /// (nothing written); None when the segment is gone.
    pub(super) async fn segment_moves(&self, id: i64) -> Result<Option<(joren_store::SegmentMoves, Vec<i64>)>> {
        let saved = match self.store.saved_segment(id).await {
            Ok(s) => s,
            Err(joren_store::StoreError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let filter = joren_core::segment_filter::parse(&saved.filter)?;
        let mut members = self.store.all_segment_members(&filter).await?;
        members.sort_unstable();
        let moves = self.store.segment_moves(id, &members).await?;
        Ok(Some((moves, members)))
    }

    /// Who a daily trigger read from its own table picks on `day`, with the occurrence of
    /// each entry (none for the triggers read from the customers' dates).
    pub(super) async fn daily_candidates(
        &self,
        trigger: &Trigger,
        day: chrono::NaiveDate,
    ) -> Result<Vec<(i64, String)>> {
        let after = |days: u32| day + chrono::Duration::days(i64::from(days));
        Ok(match *trigger {
            Trigger::PurchaseOverdue { days } => {
                self.store.overdue_on(day - chrono::Duration::days(i64::from(days))).await?
            }
            Trigger::PointsExpiring { days } => self.store.points_expiring_on(day, after(days)).await?,
            Trigger::TicketLow { remaining } => self.store.tickets_low(i64::from(remaining), day).await?,
            Trigger::TicketExpiring { days } => self.store.tickets_expiring_on(after(days)).await?,
            Trigger::MembershipRenewal { days } => self.store.memberships_due_on(after(days)).await?,
            _ => Vec::new(),
        })
    }

    /// Moves on the runs whose next step is due, up to [`ADVANCE_PASS_BATCHES`] batches of
    /// [`ADVANCE_BATCH`] a call. A batch is written while the next is read and planned (the
    /// write goes through the database's writer, the reads through other connections), the
    /// next batch read after the last one's place in due order, so no run is planned twice in
    /// a call; a run planned by two workers is still written once (the write is fenced by its
    /// step). Answers how many advanced.
    pub async fn advance_due_runs(&self) -> Result<usize> {
        let now = self.now();
        let mut advanced = 0;
        let mut batches = 1;
        let mut next = self.plan_batch(now, None).await?;
        while let Some(batch) = next {
            let more = batch.read == ADVANCE_BATCH as usize && batches < ADVANCE_PASS_BATCHES;
            let refs: Vec<(&Run, &RunAdvance)> = batch.plans.iter().map(|(r, a)| (r, a)).collect();
            let (written, planned) = tokio::join!(self.store.advance_runs(&refs, now.timestamp_millis()), async {
                if more { self.plan_batch(now, Some(batch.last)).await } else { Ok(None) }
            });
            advanced += written?;
            next = planned?;
            batches += 1;
        }
        Ok(advanced)
    }

    /// The next batch of due runs after `after` (in due order), each planned; `None` when
    /// none is due.
    async fn plan_batch(&self, now: DateTime<Utc>, after: Option<(i64, i64)>) -> Result<Option<PlannedBatch>> {
        let runs = self.store.due_runs(now.timestamp_millis(), after, ADVANCE_BATCH).await?;
        let Some(last) = runs.last().map(|r| (r.due_at_ms.unwrap_or_default(), r.id)) else { return Ok(None) };
        let read = runs.len();
        // Each scenario version's definition and pause state, read once per pass.
        let mut defs: HashMap<(i64, i64), Option<Definition>> = HashMap::new();
        let mut paused: HashMap<i64, bool> = HashMap::new();
        for run in &runs {
            let key = (run.scenario_id, run.version);
            if let std::collections::hash_map::Entry::Vacant(slot) = defs.entry(key) {
                let def = self
                    .store
                    .scenario_version(run.scenario_id, run.version)
                    .await?
                    .and_then(|v| serde_json::from_value::<Definition>(v).ok());
                slot.insert(def);
            }
            if let std::collections::hash_map::Entry::Vacant(slot) = paused.entry(run.scenario_id) {
                slot.insert(self.store.scenario(run.scenario_id).await?.is_some_and(|s| s.status == "paused"));
            }
        }
        let runs: Vec<(Run, Definition)> = runs
            .into_iter()
            .filter(|run| !paused[&run.scenario_id])
            .filter_map(|run| defs[&(run.scenario_id, run.version)].clone().map(|d| (run, d)))
            .collect();
        // The batch's customers in four queries; then each run is planned (side by side, for
        // the reads some variables need) and all of them are written in one transaction,
        // each fenced by its step, so two workers never write one twice.
        let ids: Vec<i64> = runs.iter().map(|(r, _)| r.customer_id).collect();
        let customers: HashMap<i64, joren_store::Customer> =
            self.store.customers_for_messages(&ids).await?.into_iter().map(|c| (c.id, c)).collect();
        let order_ids: Vec<i64> = runs.iter().filter_map(|(r, _)| r.order_id).collect();
        let totals = if order_ids.is_empty() { HashMap::new() } else { self.store.order_totals(&order_ids).await? };
        use futures_util::StreamExt;
        let plans: Vec<(Run, RunAdvance)> = futures_util::stream::iter(runs)
            .map(|(run, def)| {
                let known = Known {
                    customer: customers.get(&run.customer_id).cloned(),
                    order_total: run.order_id.and_then(|id| totals.get(&id).copied()),
                };
                async move {
                    let plan = match self.plan_advance(&run, &def, known, now).await {
                        Ok(plan) => plan,
                        Err(e) => {
                            tracing::warn!(run = run.id, error = %e, "scenario step failed");
                            RunAdvance {
                                step: run.step,
                                state: "failed".into(),
                                last_error: Some(e.to_string()),
                                ..Default::default()
                            }
                        }
                    };
                    (run, plan)
                }
            })
            .buffer_unordered(ADVANCE_CONCURRENCY)
            .collect()
            .await;
        Ok(Some(PlannedBatch { plans, read, last }))
    }

    /// What advancing `run` now writes: the steps from where it stands up to the next wait.
    /// `known` is what the caller has read already (the run's customer, its order's total).
    pub(super) async fn plan_advance(
        &self,
        run: &Run,
        def: &Definition,
        known: Known,
        now: DateTime<Utc>,
    ) -> Result<RunAdvance> {
        let Known { mut customer, order_total } = known;
        let steps = &def.steps;
        let mut a = RunAdvance { state: "waiting".into(), ..Default::default() };
        let mut i = run.step as usize;
        // A run woken by an order while it waited for one takes the wait's "then".
        if run.waiting_for_order == 2
            && let Some(Step::WaitForOrder { then, .. }) = i.checked_sub(1).and_then(|w| steps.get(w))
        {
            match then {
                Otherwise::Exit => {
                    a.step = i as i64;
                    a.state = "exited".into();
                    a.exit_reason = Some("ordered".into());
                    return Ok(a);
                }
                Otherwise::Skip(n) => i += *n as usize,
            }
        }
        let mut ctx: Option<(joren_store::Customer, template::Context)> = None;
        let mut ctx_end = 0;
        let mut guard = 0;
        loop {
            guard += 1;
            if guard > steps.len() + 2 {
                return Err(AppError::Internal("scenario steps did not end".into()));
            }
            let Some(step) = steps.get(i) else {
                a.state = "done".into();
                a.due_at_ms = None;
                break;
            };
            if step.is_wait() {
                let until = wait_until(step, now, self.tz())
                    .ok_or_else(|| AppError::Internal(format!("step {i}: the wait has no end")))?;
                a.due_at_ms = Some(until.timestamp_millis());
                a.waiting_for_order = i64::from(matches!(step, Step::WaitForOrder { .. }));
                i += 1;
                break;
            }
            if ctx.is_none() || i >= ctx_end {
                // Only what the steps up to the next wait use: a thank-you right after an
                // order needs the name, not the recommendation a mail a month later shows.
                // (A check that skips over a wait reads again for the steps beyond it.)
                ctx_end = steps[i..].iter().position(Step::is_wait).map_or(steps.len(), |w| i + w);
                let used = template_variables(&steps[i..ctx_end]);
                let known = Known { customer: customer.take().or_else(|| ctx.take().map(|(c, _)| c)), order_total };
                ctx = Some(self.message_context(run.customer_id, run.order_id, &used, known).await?);
            }
            let (customer, vars) = ctx.as_ref().expect("loaded above");
            match step {
                Step::Check { filter, segment_id, consent, otherwise } => {
                    let mut ok = true;
                    if let Some(channel) = consent {
                        ok &= customer.consents.iter().any(|c| &c.channel == channel && c.granted);
                    }
                    if let Some(f) = filter
                        && ok
                    {
                        let f = joren_core::segment_filter::parse(f)?;
                        ok &= self.store.customer_matches(&f, run.customer_id).await?;
                    }
                    if let Some(id) = segment_id
                        && ok
                    {
                        // The saved segment as it is now; a deleted one matches nobody.
                        ok &= match self.store.saved_segment(*id).await {
                            Ok(saved) => {
                                let f = joren_core::segment_filter::parse(&saved.filter)?;
                                self.store.customer_matches(&f, run.customer_id).await?
                            }
                            Err(joren_store::StoreError::NotFound(_)) => false,
                            Err(e) => return Err(e.into()),
                        };
                    }
                    match (ok, otherwise) {
                        (true, _) => i += 1,
                        (false, Otherwise::Skip(n)) => i += 1 + *n as usize,
                        (false, Otherwise::Exit) => {
                            a.state = "exited".into();
                            a.exit_reason = Some("check".into());
                            break;
                        }
                    }
                    continue;
                }
                Step::Email { subject, body, marketing } => {
                    if let Some(to) = customer.profile.email.clone().filter(|e| !e.is_empty()) {
                        let subject = template::render(&format!("steps[{i}].subject"), subject, vars)?;
                        let text = template::render(&format!("steps[{i}].body"), body, vars)?;
                        let text = format!("{text}{}", self.mail_footer(*marketing, &vars.unsubscribe_url));
                        a.messages.push((
                            i as i64,
                            NewMessage {
                                customer_id: run.customer_id,
                                channel: "email".into(),
                                marketing: *marketing,
                                recipient: to,
                                subject: subject.lines().next().unwrap_or_default().to_string(),
                                body_html: template::text_to_html(&text),
                                body_text: text,
                                not_before_ms: now.timestamp_millis(),
                                test_mode: self.mail().test_mode(),
                                payload: None,
                            },
                        ));
                    }
                }
                Step::Line { text, card, quick_replies, marketing } => {
                    if let Some(user) = customer.profile.line_user_id.clone().filter(|u| !u.is_empty()) {
                        let text = template::render(&format!("steps[{i}].text"), text, vars)?;
                        let m = self.line_message(
                            run.customer_id,
                            user,
                            *marketing,
                            text.trim(),
                            card.as_ref(),
                            quick_replies,
                        );
                        a.messages.push((i as i64, m));
                    }
                }
                Step::Sms { text, marketing } => {
                    // Only a number that takes texts (a fixed line cannot).
                    let phone = customer.profile.phone.clone().filter(|p| joren_core::phone::can_receive_sms(p));
                    if let Some(phone) = phone {
                        let text = template::render(&format!("steps[{i}].text"), text, vars)?;
                        a.messages.push((i as i64, self.sms_message(run.customer_id, phone, *marketing, text.trim())));
                    }
                }
                Step::Task { task, title, due_days } => {
                    let title = template::render(&format!("steps[{i}].title"), title, vars).unwrap_or(title.clone());
                    a.tasks.push((
                        i as i64,
                        NewTask {
                            customer_id: run.customer_id,
                            kind: task.as_str().into(),
                            title,
                            due_on: joren_core::time::local_date(now, self.tz())
                                + chrono::Duration::days(i64::from(*due_days)),
                            assignee_id: customer.profile.owner_user_id,
                        },
                    ));
                }
                Step::Tag { add, remove } => {
                    a.add_tags.extend(add.iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()));
                    a.remove_tags.extend(remove.iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()));
                }
                Step::Points { points, reason } => {
                    let key = format!("scenario-run:{}:{i}", run.id);
                    let input = crate::points::GrantInput {
                        points: *points,
                        kind: joren_core::points::ValueKind::Free,
                        reason: reason.clone(),
                        expires_on: None,
                    };
                    self.grant_points(&Actor::system("scenario"), run.customer_id, input, Some(&key)).await?;
                }
                Step::Start { scenario_id } if *scenario_id == run.scenario_id => {
                    tracing::warn!(run = run.id, "a scenario step starts its own scenario: skipped");
                }
                Step::Start { scenario_id } => match self.active_scenario(*scenario_id).await {
                    Ok((s, d)) => {
                        // Keyed by this run and step: a step planned twice enrols once.
                        let at = now.timestamp_millis();
                        let e = enrolment(&s, &d, run.customer_id, format!("run:{}:{i}", run.id), None, at);
                        self.store.enrol(&[e], at).await?;
                    }
                    Err(AppError::NotFound(_) | AppError::Conflict(_)) => {
                        tracing::info!(run = run.id, scenario = scenario_id, "the scenario to start is not active");
                    }
                    Err(e) => return Err(e),
                },
                Step::Survey { survey_id, channel, subject, text, marketing } => {
                    let subject = template::render(&format!("steps[{i}].subject"), subject, vars)?;
                    let text = template::render(&format!("steps[{i}].text"), text, vars)?;
                    let sent = self
                        .scenario_invitation(
                            run,
                            i,
                            customer,
                            *survey_id,
                            *channel,
                            &subject,
                            &text,
                            *marketing,
                            &vars.unsubscribe_url,
                        )
                        .await?;
                    if let Some((invitation, message)) = sent {
                        a.invitations.push(invitation);
                        a.messages.push((i as i64, message));
                    }
                }
                Step::Wait { .. } | Step::WaitUntil { .. } | Step::WaitForOrder { .. } => {
                    unreachable!("waits end the loop")
                }
            }
            i += 1;
        }
        a.step = i as i64;
        Ok(a)
    }

    /// The customer and the variables their messages are rendered with; what is `known` is
    /// not read again. Only the variables in `used` that cost a query are looked up (`None`:
    /// all of them).
    pub(crate) async fn message_context(
        &self,
        customer_id: i64,
        order_id: Option<i64>,
        used: &Option<std::collections::HashSet<String>>,
        known: Known,
    ) -> Result<(joren_store::Customer, template::Context)> {
        let wants = |v: &str| used.as_ref().is_none_or(|u| u.contains(v));
        let c = match known.customer {
            Some(c) => c,
            None => self.store.get_customer(customer_id).await?,
        };
        let points = if wants("points") || wants("points_expiring") || wants("points_expiry_date") {
            self.points_account(customer_id).await.ok()
        } else {
            None
        };
        let rank = if wants("rank") { self.customer_rank(customer_id).await.ok() } else { None };
        let next_lot = points.as_ref().and_then(|p| p.lots.iter().find(|l| l.expires_on.is_some() && l.remaining > 0));
        let order_total = match (order_id.filter(|_| wants("order_total")), known.order_total) {
            (Some(_), Some(total)) => total,
            (Some(id), None) => self.store.order_totals(&[id]).await?.get(&id).copied().unwrap_or_default(),
            (None, _) => 0,
        };
        let ctx = template::Context {
            name: c.display_name.clone(),
            family_name: c.profile.family_name.clone(),
            given_name: c.profile.given_name.clone(),
            company: c.profile.company_name.clone(),
            shop_name: self.mail().shop_name.clone(),
            rank: rank.filter(|r| r.enabled).map(|r| r.tier).unwrap_or_default(),
            points: points.as_ref().map(|p| p.free.available + p.paid.available).unwrap_or_default(),
            points_expiring: next_lot.map(|l| l.remaining).unwrap_or_default(),
            points_expiry_date: next_lot.and_then(|l| l.expires_on).map(|d| d.to_string()).unwrap_or_default(),
            last_item: if wants("last_item") {
                self.store.last_item_bought(customer_id).await?.unwrap_or_default()
            } else {
                String::new()
            },
            recommended_item: if wants("recommended_item") {
                self.recommended_item(customer_id).await.unwrap_or_default()
            } else {
                String::new()
            },
            order_total,
            // Marketing mail carries the link in its footer whatever the template says.
            unsubscribe_url: if wants("unsubscribe_url") {
                self.unsubscribe_url(customer_id).await?
            } else {
                String::new()
            },
        };
        Ok((c, ctx))
    }

    pub(super) async fn recommended_item(&self, customer_id: i64) -> Option<String> {
        let s = self.cross_sell_for_customer(customer_id, 1).await.ok()?;
        s.into_iter().next().map(|x| x.consequent_name)
    }
}

/// The variables `steps`' messages and tasks use, plus the unsubscribe link when one of them
/// is a marketing mail (its footer carries one). None when a template does not parse (then
/// everything is read).
pub(super) fn template_variables(steps: &[Step]) -> Option<std::collections::HashSet<String>> {
    let mut used = std::collections::HashSet::new();
    for step in steps {
        let sources: Vec<&str> = match step {
            Step::Email { subject, body, marketing } => {
                if *marketing {
                    used.insert("unsubscribe_url".to_string());
                }
                vec![subject, body]
            }
            Step::Line { text, .. } | Step::Sms { text, .. } => vec![text],
            Step::Task { title, .. } => vec![title],
            Step::Survey { subject, text, marketing, channel, .. } => {
                if *marketing && *channel == joren_core::scenario::SurveyChannel::Email {
                    used.insert("unsubscribe_url".to_string());
                }
                vec![subject, text]
            }
            _ => continue,
        };
        for src in sources {
            used.extend(template::variables(src)?);
        }
    }
    Some(used)
}

/// The saved segment a trigger watches, if it watches one.
pub(super) fn saved_segment_of(trigger: &Trigger) -> Option<i64> {
    match trigger {
        Trigger::SavedSegmentEntered { segment_id } | Trigger::SavedSegmentLeft { segment_id } => Some(*segment_id),
        _ => None,
    }
}

/// Whether a daily trigger is read from the customers' dates (birthday, first and last
/// purchase) rather than a table of its own.
pub(super) fn by_customer_dates(trigger: &Trigger) -> bool {
    matches!(trigger, Trigger::Birthday | Trigger::DaysAfterPurchase { .. })
}

/// Whether a daily trigger (birthday, N days after the first or last purchase) picks a
/// customer with these dates on local day `day`.
pub(super) fn daily_hit(
    trigger: &Trigger,
    day: chrono::NaiveDate,
    tz: joren_core::time::Tz,
    first_ms: Option<i64>,
    last_ms: Option<i64>,
    birthday: Option<&str>,
) -> bool {
    match trigger {
        Trigger::Birthday => birthday
            .and_then(|b| chrono::NaiveDate::parse_from_str(b, "%Y-%m-%d").ok())
            .is_some_and(|b| is_birthday(b, day)),
        Trigger::DaysAfterPurchase { which, days } => {
            let at = match which {
                joren_core::scenario::PurchaseAnchor::First => first_ms,
                joren_core::scenario::PurchaseAnchor::Last => last_ms,
            };
            at.map(|ms| joren_core::time::local_date(joren_store::from_ms(ms), tz))
                .is_some_and(|d0| d0 + chrono::Duration::days(i64::from(*days)) == day)
        }
        _ => false,
    }
}

/// Events read per dispatch, runs per advance pass.
const DISPATCH_BATCH: i64 = 500;
/// Delivery batches in one pass of the engine (mail settings are read once a pass).
const DELIVERY_PASS_BATCHES: usize = 10;

pub(super) const ADVANCE_BATCH: i64 = 500;

/// Runs planned and written at once.
const ADVANCE_CONCURRENCY: usize = 16;

/// Batches one engine pass advances at most (the rest wait for the next pass, so new events
/// and due mail are not held up long behind a broadcast).
pub(super) const ADVANCE_PASS_BATCHES: usize = 4;

/// A batch of due runs with what advancing each writes.
/// What a run's planning may find already read for its batch.
#[derive(Default)]
pub(crate) struct Known {
    pub(crate) customer: Option<joren_store::Customer>,
    pub(crate) order_total: Option<i64>,
}

struct PlannedBatch {
    plans: Vec<(Run, RunAdvance)>,
    /// How many runs were read (some may have been left out: a paused scenario's).
    read: usize,
    /// The last run read, as (due time, id): the next batch starts after it.
    last: (i64, i64),
}
