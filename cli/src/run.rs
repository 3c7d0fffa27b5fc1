//! `elect run`: run a command only while this process leads.
//!
//! One loop owns everything: election events, the command's exit and the stop signals all
//! arrive as messages on one channel, and the lease deadline is checked each time the loop
//! wakes. While leading, CMD runs with `ELECT_FENCING_TOKEN`, `ELECT_TERM`, `ELECT_NAME` and
//! `ELECT_ID` in its environment, in a process group of its own.
//!
//! CMD, and everything it started in its process group, must be gone before the lock is given
//! up or the lease deadline passes, because after either another process may lead: a term ends
//! only once the group is empty (see `child::Job`), whichever way it ends.
//!
//! So the loop does not wait for `Revoked`: when the deadline comes within `grace` with no
//! confirmed renewal, it sends SIGTERM to the group, and SIGKILL at the deadline. `grace` is
//! therefore limited to the time between the expected renewal and the deadline
//! (`ttl - renew - margin`), otherwise every healthy lease would stop the command.

use std::process::Command;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use elect_core::uri::fmt_duration;
use elect_core::{Config, Election, Error, Event, Result};

use crate::child::{reap_orphans, spawn_error_code, Job, JobEvent};
use crate::{exit, options, signals};

pub struct RunArgs {
    pub uri: String,
    pub name: String,
    pub ttl: Option<Duration>,
    pub id: Option<String>,
    pub grace: Option<Duration>,
    pub command: Vec<String>,
}

enum Msg {
    Event(Event),
    Job(JobEvent),
    Signal(i32),
}

/// How a term of running CMD ended.
enum Outcome {
    /// CMD exited by itself with this code (and what it left running was stopped): leave the
    /// election (its successor is woken at once) and exit with it.
    Exited(i32),
    /// We stopped CMD because the leadership was lost (or about to be): campaign again.
    Lost,
    /// We stopped CMD because `elect` was asked to stop.
    Interrupted,
}

/// A stop in progress: SIGTERM was sent; SIGKILL follows at `kill_at`.
struct Stop {
    kill_at: Instant,
    killed: bool,
    then: Outcome,
}

pub fn main(args: RunArgs) -> i32 {
    let stop_signals = match signals::block() {
        Ok(s) => s,
        Err(e) => return exit::fail(&Error::internal(format!("cannot block signals: {e}"))),
    };
    if let Err(e) = reap_orphans() {
        let message = format!("cannot become the reaper of CMD's background processes: {e}");
        return exit::fail(&Error::internal(message));
    }
    let (config, grace) = match configure(&args) {
        Ok(c) => c,
        Err(e) => return exit::fail(&e),
    };
    let (tx, rx) = channel();
    let events = tx.clone();
    let handler = Box::new(move |ev: &Event| {
        let _ = events.send(Msg::Event(ev.clone()));
    });
    let election = match Election::open_with(config, &args.name, Some(handler)) {
        Ok(e) => e,
        Err(e) => return exit::fail(&e),
    };
    let signalled = tx.clone();
    signals::forward(stop_signals, move |sig| {
        let _ = signalled.send(Msg::Signal(sig));
    });
    if let Err(e) = election.start() {
        return exit::fail(&e);
    }
    let mut runner = Runner {
        election,
        rx,
        tx,
        grace,
        args,
    };
    let code = runner.campaign();
    // Resigns if still leading, and leaves the election.
    runner.election.close();
    code
}

/// The election's config from `--uri` and the flags, and the grace period.
fn configure(args: &RunArgs) -> Result<(Config, Duration)> {
    let mut config = options::config(&args.uri, &args.name)?;
    if let Some(ttl) = args.ttl {
        config
            .set("ttl", &fmt_duration(ttl))
            .map_err(|e| e.context("--ttl"))?;
    }
    if let Some(id) = &args.id {
        config.set("id", id).map_err(|e| e.context("--id"))?;
    }
    config.validate()?;
    let window = config.ttl - config.renew() - config.margin();
    let grace = match args.grace {
        None => window / 2,
        Some(g) if !g.is_zero() && g < window => g,
        Some(g) => {
            return Err(Error::invalid(format!(
                "--grace: {} must be above 0 and shorter than ttl - renew - margin ({} - {} - {} = {}), \
                 the time between an expected renewal and the lease deadline",
                fmt_duration(g),
                fmt_duration(config.ttl),
                fmt_duration(config.renew()),
                fmt_duration(config.margin()),
                fmt_duration(window)
            )))
        }
    };
    Ok((config, grace))
}

fn say(message: impl std::fmt::Display) {
    eprintln!("elect: {message}");
}

struct Runner {
    election: Election,
    rx: Receiver<Msg>,
    tx: Sender<Msg>,
    grace: Duration,
    args: RunArgs,
}

impl Runner {
    /// Waits to lead, runs CMD for the term, and starts over until CMD exits by itself or
    /// `elect` is asked to stop.
    fn campaign(&mut self) -> i32 {
        // A term won again while CMD of the previous one was being stopped.
        let mut won: Option<u64> = None;
        loop {
            let term = match won.take() {
                Some(term) => term,
                None => {
                    let Ok(msg) = self.rx.recv() else {
                        return exit::SOFTWARE; // cannot happen: `self.tx` keeps it open
                    };
                    match msg {
                        Msg::Signal(sig) => {
                            say(format_args!("{}: leaving the election", signals::name(sig)));
                            return exit::OK;
                        }
                        // An `Elected` whose term already ended (queued behind our last term)
                        // is stale.
                        Msg::Event(Event::Elected { term }) if self.election.is_leader() => term,
                        Msg::Event(Event::Error { message }) => {
                            say(message);
                            continue;
                        }
                        _ => continue,
                    }
                }
            };
            match self.lead(term) {
                // Not `resign`: that campaigns again, and a quick campaign could take the
                // next term before the `close` that follows. `close` releases and leaves.
                Outcome::Exited(code) => return code,
                Outcome::Interrupted => return exit::OK,
                Outcome::Lost => match self.election.fencing_token() {
                    Some(now) if now != term => won = Some(now),
                    // A late renewal kept the lease after we stopped CMD: hand it on rather
                    // than lead with nothing running.
                    Some(_) => self.resign(),
                    None => {}
                },
            }
        }
    }

    fn resign(&self) {
        if let Err(e) = self.election.resign() {
            say(format_args!("resign: {e}"));
        }
    }

    /// Runs CMD for one term and returns how the term ended, once CMD is dead.
    fn lead(&mut self, term: u64) -> Outcome {
        let program = &self.args.command[0];
        let mut cmd = Command::new(program);
        cmd.args(&self.args.command[1..])
            .env("ELECT_FENCING_TOKEN", term.to_string())
            .env("ELECT_TERM", term.to_string())
            .env("ELECT_NAME", &self.args.name)
            .env("ELECT_ID", self.election.id());
        let exited = self.tx.clone();
        let job = match Job::spawn(cmd, move |event| {
            let _ = exited.send(Msg::Job(event));
        }) {
            Ok(job) => job,
            Err(e) => {
                say(format_args!("cannot start `{program}`: {e}"));
                return Outcome::Exited(spawn_error_code(&e));
            }
        };
        say(format_args!(
            "leading `{}` (fencing token {term}): started `{program}` (pid {})",
            self.args.name,
            job.pid()
        ));
        let mut stop: Option<Stop> = None;
        let mut deadline = self.election.lease_deadline().unwrap_or_else(Instant::now);
        loop {
            let now = Instant::now();
            if let Some(d) = self.election.lease_deadline() {
                deadline = d; // renewals move it; after a revoke the last one stays
            }
            if stop.is_none() && now + self.grace >= deadline {
                say("the lease deadline is near with no confirmed renewal: stopping the command");
                stop = Some(Self::begin_stop(&job, deadline, Outcome::Lost));
            }
            let wake = match &stop {
                None => deadline.checked_sub(self.grace).unwrap_or(now),
                Some(s) if !s.killed => s.kill_at,
                Some(_) => now + Duration::from_secs(3600), // SIGKILL sent: wait for the exit
            };
            let msg = match self.rx.recv_timeout(wake.saturating_duration_since(now)) {
                Ok(msg) => msg,
                Err(RecvTimeoutError::Timeout) => {
                    if let Some(s) = stop.as_mut().filter(|s| !s.killed) {
                        if Instant::now() >= s.kill_at {
                            say("the command did not stop in time: SIGKILL");
                            job.signal(libc::SIGKILL);
                            s.killed = true;
                        }
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return Outcome::Interrupted,
            };
            match msg {
                Msg::Job(JobEvent::Exited(status)) if stop.is_none() => {
                    let code = status.map(exit::of_status).unwrap_or(exit::SOFTWARE);
                    say(format_args!(
                        "`{program}` exited with code {code}: stopping what it left running in \
                         its process group, then resigning"
                    ));
                    let kill_at = deadline.min(now + self.grace);
                    stop = Some(Self::begin_stop(&job, kill_at, Outcome::Exited(code)));
                }
                Msg::Job(JobEvent::GroupGone) => {
                    // CMD exits before its group is gone, and a stop is begun at the latest then.
                    return stop.map_or(Outcome::Lost, |s| s.then);
                }
                Msg::Event(Event::Revoked { reason, .. }) if stop.is_none() => {
                    say(format_args!(
                        "lost the leadership ({reason}): stopping the command"
                    ));
                    let kill_at = deadline.min(now + self.grace);
                    stop = Some(Self::begin_stop(&job, kill_at, Outcome::Lost));
                }
                Msg::Signal(sig) => match stop.as_mut() {
                    None => {
                        say(format_args!("{}: stopping the command", signals::name(sig)));
                        let kill_at = deadline.min(now + self.grace);
                        stop = Some(Self::begin_stop(&job, kill_at, Outcome::Interrupted));
                    }
                    // A second signal while stopping: do not make the user wait for `grace`.
                    Some(s) => {
                        s.then = Outcome::Interrupted;
                        s.kill_at = now;
                    }
                },
                Msg::Event(Event::Error { message }) => say(message),
                _ => {}
            }
        }
    }

    /// SIGTERM now and SIGKILL at `kill_at`; when `kill_at` has already passed (elect was
    /// paused past the deadline) there is no grace left to give, so SIGKILL at once: a SIGTERM
    /// first would let CMD run its handlers while another leader may already be working.
    fn begin_stop(job: &Job, kill_at: Instant, then: Outcome) -> Stop {
        let killed = Instant::now() >= kill_at;
        if killed {
            say("the lease deadline has passed: SIGKILL");
            job.signal(libc::SIGKILL);
        } else {
            job.signal(libc::SIGTERM);
        }
        Stop {
            kill_at,
            killed,
            then,
        }
    }
}
