//! Group commit for SQLite: this process's writers share one write transaction.
//!
//! SQLite takes one writer at a time, and each commit costs a WAL sync plus `BEGIN`/`COMMIT`
//! round trips to the connection's worker thread. Writers therefore queue here (in order,
//! without SQLite's sleeping busy handler) and each runs inside a savepoint of one shared
//! transaction: its own failure rolls back to its savepoint and touches no one else. A writer
//! that finishes while others are queued leaves the transaction open for them and waits; the
//! last one of the group (or the 64th) commits for all and tells the rest. A writer's
//! `commit` therefore returns only once its work is durable, and if the group's commit fails,
//! every writer in the group gets the error: nothing is acknowledged that was not written.
//! A bulk writer (import batch, expiry run) commits the group before it and then commits alone.
//!
//! Round trips to the connection's worker thread are what the single writer waits on, so a
//! writer that leaves the group open for others opens their savepoint in the same trip as its
//! own release, and [`Member::commit_after`] sends a writer's last statements together with
//! that release.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Executor};
use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

use crate::StoreError;
use crate::batch::Batch;
use crate::writer_time::Turn;

/// How long a writer waits for its turn before giving up (SQLite's busy timeout is 10 s too).
const WRITER_WAIT: Duration = Duration::from_secs(30);

/// Most writers one commit acknowledges (bounds how long the first of them waits).
const MAX_GROUP: usize = 64;

/// The savepoint each writer's work runs in.
const SAVEPOINT: &str = "joren_writer";

type Outcome = std::result::Result<(), String>;

/// The queue of this process's SQLite writers and the transaction they share.
#[derive(Debug)]
pub(crate) struct WriterQueue {
    pool: AnyPool,
    group: Arc<Mutex<Group>>,
    /// Writers waiting for their turn: while any wait, a finishing writer leaves the group open.
    queued: AtomicUsize,
}

/// The shared transaction, when one is open, and the writers it owes an answer.
#[derive(Debug, Default)]
pub(crate) struct Group {
    open: Option<OpenGroup>,
}

#[derive(Debug)]
struct OpenGroup {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    /// A savepoint the previous writer opened for the next one along with its own release
    /// (one round trip instead of two).
    savepoint_ready: bool,
    members: usize,
    waiting: Vec<oneshot::Sender<Outcome>>,
}

impl WriterQueue {
    pub(crate) fn new(pool: AnyPool) -> Arc<Self> {
        Arc::new(Self { pool, group: Arc::new(Mutex::new(Group::default())), queued: AtomicUsize::new(0) })
    }

    /// Waits for this writer's turn, joins (or opens) the shared transaction and starts a
    /// savepoint for the writer's work.
    pub(crate) async fn join(self: &Arc<Self>) -> Result<Member, sqlx::Error> {
        self.take_turn(false).await
    }

    /// Like [`WriterQueue::join`] for a bulk writer (an import batch, the expiry run): the
    /// group before it is committed first, so the short writes in it are not kept waiting
    /// for the bulk work, and the bulk writer commits on its own when it is done.
    pub(crate) async fn join_alone(self: &Arc<Self>) -> Result<Member, sqlx::Error> {
        self.take_turn(true).await
    }

    async fn take_turn(self: &Arc<Self>, alone: bool) -> Result<Member, sqlx::Error> {
        let queued = Queued::new(self);
        let turn = tokio::time::timeout(WRITER_WAIT, self.group.clone().lock_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?;
        queued.served();
        let mut member =
            Member { turn: Some(turn), queue: self.clone(), in_savepoint: false, alone, timed: Turn::begin() };
        let group = member.group_mut();
        if alone && let Some(open) = group.open.take() {
            commit_group(open).await?;
        }
        if group.open.is_none() {
            let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            group.open = Some(OpenGroup { tx, savepoint_ready: false, members: 0, waiting: Vec::new() });
        }
        let open = group.open.as_mut().expect("the group was just opened");
        if !std::mem::take(&mut open.savepoint_ready) {
            member.conn().execute(sqlx::AssertSqlSafe(format!("SAVEPOINT {SAVEPOINT}"))).await?;
        }
        member.in_savepoint = true;
        Ok(member)
    }

    /// Commits the open group if no writer is queued to continue it.
    async fn close_if_idle(&self, group: &mut Group) {
        if self.queued.load(Ordering::SeqCst) == 0
            && let Some(open) = group.open.take()
        {
            let _ = commit_group(open).await;
        }
    }
}

/// Counts a writer as queued until it gets its turn; a writer that gives up waiting (timeout,
/// request dropped) may have been the one the group was left open for, so it settles the
/// group on its way out.
struct Queued<'a> {
    queue: &'a Arc<WriterQueue>,
    served: bool,
}

impl<'a> Queued<'a> {
    fn new(queue: &'a Arc<WriterQueue>) -> Self {
        queue.queued.fetch_add(1, Ordering::SeqCst);
        Self { queue, served: false }
    }

    fn served(mut self) {
        self.served = true;
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.queue.queued.fetch_sub(1, Ordering::SeqCst);
        if !self.served
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let queue = self.queue.clone();
            runtime.spawn(async move {
                let mut group = queue.group.clone().lock_owned().await;
                queue.close_if_idle(&mut group).await;
            });
        }
    }
}

/// One writer's turn: its work runs in a savepoint of the group's transaction.
pub(crate) struct Member {
    turn: Option<OwnedMutexGuard<Group>>,
    queue: Arc<WriterQueue>,
    in_savepoint: bool,
    /// A bulk writer: commits its own transaction instead of leaving it open for others.
    alone: bool,
    /// When the turn began, if writer time is being logged.
    timed: Option<Turn>,
}

impl Member {
    fn group_mut(&mut self) -> &mut Group {
        self.turn.as_mut().expect("a member holds its turn until it commits or is dropped")
    }

    fn open(&self) -> &OpenGroup {
        self.turn.as_ref().and_then(|g| g.open.as_ref()).expect("a member's group is open")
    }

    pub(crate) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.group_mut().open.as_mut().expect("a member's group is open").tx
    }

    pub(crate) fn conn_ref(&self) -> &sqlx::AnyConnection {
        &self.open().tx
    }

    /// Keeps the writer's work; returns once it is committed (with the group's result).
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.commit_after(None).await.map(drop).map_err(|e| match e {
            StoreError::Db(e) => e,
            other => sqlx::Error::Protocol(other.to_string()),
        })
    }

    /// Runs `batch`, the writer's last statements, and keeps the work, all in one trip to the
    /// connection: the savepoint's release goes at the batch's end. A failing statement leaves
    /// the savepoint to be rolled back (as when a writer is dropped). Answers the rows the
    /// batch's statements returned, once the group has committed them.
    pub(crate) async fn commit_after(mut self, batch: Option<Batch>) -> crate::Result<Vec<AnyRow>> {
        // With writers queued behind it, the group goes on: open the next one's savepoint in
        // the same round trip as this release.
        let continue_group =
            self.queue.queued.load(Ordering::SeqCst) > 0 && !self.alone && self.open().members + 1 < MAX_GROUP;
        let mut batch = match batch {
            Some(b) => b,
            None => Batch::new(crate::Backend::Sqlite),
        };
        let work = !batch.is_empty();
        batch.push(&format!("RELEASE {SAVEPOINT}"));
        if continue_group {
            batch.push(&format!("SAVEPOINT {SAVEPOINT}"));
        }
        let rows = match batch.run(self.conn()).await {
            Ok(rows) => rows,
            Err(e) if work => {
                // Most likely the work failed (a duplicate key, say) and the savepoint is
                // still there: dropping the writer rolls it back (and if the release itself
                // failed, that rollback fails and the group is failed with it).
                return Err(e);
            }
            Err(e) => {
                // The transaction's state is unknown: nobody in the group is acknowledged.
                if let Some(open) = self.group_mut().open.take() {
                    fail_group(open, &e.to_string()).await;
                }
                self.turn = None;
                return Err(e);
            }
        };
        self.in_savepoint = false;
        let mut turn = self.turn.take().expect("a member holds its turn");
        let open = turn.open.as_mut().expect("a member's group is open");
        open.members += 1;
        open.savepoint_ready = continue_group;
        if continue_group {
            let (answer, outcome) = oneshot::channel();
            open.waiting.push(answer);
            drop(turn);
            if let Some(t) = self.timed.take() {
                t.end();
            }
            return match outcome.await {
                Ok(Ok(())) => Ok(rows),
                Ok(Err(message)) => Err(sqlx::Error::Protocol(format!("group commit failed: {message}")).into()),
                Err(_) => Err(sqlx::Error::Protocol("group commit abandoned".into()).into()),
            };
        }
        let open = turn.open.take().expect("a member's group is open");
        let committed = commit_group(open).await;
        if let Some(t) = self.timed.take() {
            t.end();
        }
        committed?;
        Ok(rows)
    }
}

impl Drop for Member {
    /// A writer dropped without committing (an error, a cancelled request): its savepoint is
    /// rolled back and the group goes on; its turn passes on once that is done.
    fn drop(&mut self) {
        let Some(mut turn) = self.turn.take() else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let queue = self.queue.clone();
        let in_savepoint = self.in_savepoint;
        let timed = self.timed.take();
        runtime.spawn(async move {
            if in_savepoint && let Some(open) = turn.open.as_mut() {
                let undo = open.tx.execute(sqlx::AssertSqlSafe(format!("ROLLBACK TO {SAVEPOINT}"))).await;
                let release = match undo {
                    Ok(_) => open.tx.execute(sqlx::AssertSqlSafe(format!("RELEASE {SAVEPOINT}"))).await.map(|_| ()),
                    Err(e) => Err(e),
                };
                if let Err(e) = release
                    && let Some(open) = turn.open.take()
                {
                    fail_group(open, &e.to_string()).await;
                }
            }
            queue.close_if_idle(&mut turn).await;
            if let Some(t) = timed {
                t.end();
            }
        });
    }
}

/// Commits the group and answers every writer waiting on it.
async fn commit_group(open: OpenGroup) -> Result<(), sqlx::Error> {
    let OpenGroup { tx, waiting, .. } = open;
    let committing = Turn::commit();
    let result = tx.commit().await;
    if let Some(t) = committing {
        t.end();
    }
    let outcome: Outcome = result.as_ref().map(|_| ()).map_err(ToString::to_string);
    for answer in waiting {
        let _ = answer.send(outcome.clone());
    }
    result
}

/// Rolls the group back and tells every waiting writer it failed.
async fn fail_group(open: OpenGroup, why: &str) {
    let OpenGroup { tx, waiting, .. } = open;
    let _ = tx.rollback().await;
    for answer in waiting {
        let _ = answer.send(Err(why.to_string()));
    }
}
