//! Core's log records to `io.elect.LogBridge` (and so to `System.Logger` `io.elect`), and the
//! metrics snapshot of an election as a `long[]` for `io.elect.ElectionStats`.
//!
//! Records are delivered on core's `elect-log` thread, attached to the JVM as a daemon the way
//! the dispatcher threads are (`attach`). `LogBridge` and its method are looked up once, on the
//! loading thread, for the same reason as `cache`: that thread sees the `io.elect` class loader.

use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

use elect_core::log_bridge::{self, Level, Record};
use elect_core::{Error, RevokeReason};
use jni::ids::JStaticMethodID;
use jni::objects::{JClass, JLongArray, JObject, JString};
use jni::refs::Global;
use jni::signature::{JavaType, Primitive};
use jni::sys::{jint, jlong, jvalue};
use jni::{jni_sig, jni_str, Env, EnvUnowned, JValue, JavaVM};

use crate::attach;
use crate::errors::{NativeError, ThrowElect};

struct Bridge {
    class: Global<JClass<'static>>,
    /// `static void log(int level, String target, String message, String election,
    /// String store, String id, long term, String fields)`
    log: JStaticMethodID,
}

static BRIDGE: OnceLock<Bridge> = OnceLock::new();

/// Looks up `io.elect.LogBridge.log`, from `JNI_OnLoad`.
pub fn init(env: &mut Env<'_>) -> jni::errors::Result<()> {
    if BRIDGE.get().is_some() {
        return Ok(());
    }
    let class = env.find_class(jni_str!("io/elect/LogBridge"))?;
    let log = env.get_static_method_id(
        &class,
        jni_str!("log"),
        jni_sig!("(ILjava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;JLjava/lang/String;)V"),
    )?;
    let class = env.new_global_ref(&class)?;
    let _ = BRIDGE.set(Bridge { class, log });
    Ok(())
}

/// `NativeElection.setLogLevel(int)`: core's records from `min_level` (1 error .. 5 trace) up go
/// to `LogBridge.log`; 0 stops them.
pub fn set_log_level<'local>(mut env: EnvUnowned<'local>, _class: JClass<'local>, min_level: jint) {
    env.with_env(|_| -> Result<(), NativeError> {
        match Level::from_i32(min_level) {
            Some(level) => log_bridge::set_sink(Some(Box::new(deliver)), level),
            None if min_level == 0 => log_bridge::set_sink(None, Level::Error),
            None => {
                let msg = format!("log level: {min_level} is not 0 (off) .. 5 (trace)");
                return Err(Error::invalid(msg).into());
            }
        }
        Ok(())
    })
    .resolve::<ThrowElect>()
}

/// The sink: one record to `LogBridge.log`, on the `elect-log` thread.
fn deliver(record: &Record) {
    let (Ok(vm), Some(bridge)) = (JavaVM::singleton(), BRIDGE.get()) else {
        return;
    };
    let Some(raw) = attach::current_env(&vm) else {
        return; // the JVM is shutting down
    };
    // SAFETY: `raw` is this thread's JNIEnv, attached just above or by an earlier record, and
    // valid until the thread detaches when it ends.
    let mut unowned = unsafe { EnvUnowned::from_raw(raw) };
    let outcome = unowned
        .with_env(|env| -> Result<(), NativeError> {
            // This thread never returns to Java, so local references are freed per record.
            env.with_local_frame(16, |env| -> Result<(), NativeError> {
                call(env, bridge, record)?;
                if env.exception_check() {
                    env.exception_clear(); // LogBridge catches what it can; never unwind here
                }
                Ok(())
            })
        })
        .into_outcome();
    if let jni::Outcome::Err(e) = outcome {
        eprintln!("elect: cannot deliver a log record to Java: {e}");
    }
}

fn text<'local>(env: &mut Env<'local>, s: Option<&str>) -> Result<JObject<'local>, NativeError> {
    Ok(match s {
        Some(s) => JString::from_str(env, s)?.into(),
        None => JObject::null(),
    })
}

fn call(env: &mut Env<'_>, bridge: &Bridge, r: &Record) -> Result<(), NativeError> {
    let target = text(env, Some(&r.target))?;
    let message = text(env, Some(&r.message))?;
    let election = text(env, r.election.as_deref())?;
    let store = text(env, r.store.as_deref())?;
    let id = text(env, r.id.as_deref())?;
    let fields = text(env, Some(&r.fields_text()))?;
    let args: [jvalue; 8] = [
        JValue::Int(r.level as i32).as_jni(),
        JValue::Object(&target).as_jni(),
        JValue::Object(&message).as_jni(),
        JValue::Object(&election).as_jni(),
        JValue::Object(&store).as_jni(),
        JValue::Object(&id).as_jni(),
        JValue::Long(r.term.unwrap_or(0) as i64).as_jni(),
        JValue::Object(&fields).as_jni(),
    ];
    // SAFETY: `log` was looked up on `class` with the signature
    // `(ILString;String;String;String;String;JString;)V`, matching `args`.
    unsafe {
        env.call_static_method_unchecked(
            &bridge.class,
            bridge.log,
            JavaType::Primitive(Primitive::Void),
            &args,
        )
    }?;
    Ok(())
}

/// Revocation counters in [`stats_array`], one per reason, after `terms_won`.
const REASONS: usize = RevokeReason::ALL.len();

/// How many values [`stats_array`] returns; `ElectionStats` reads them in this order.
pub const STATS_LEN: usize = 1 + REASONS + 9;

/// `terms_won, revocations[1..=REASONS] by reason number, store_errors, reconnects,
/// last_failover_unix_ms (-1), lease_remaining_ns (-1), store_rtt_ns (-1), store_connected
/// (0/1), healthy (0/1), log records dropped, failovers`.
pub fn stats_array(e: &elect_core::Election) -> [jlong; STATS_LEN] {
    let s = e.stats();
    let health = e.health();
    let nanos = |d: Option<Duration>| d.map_or(-1, |d| d.as_nanos().min(i64::MAX as u128) as i64);
    let mut out = [0; STATS_LEN];
    out[0] = s.terms_won as i64;
    for r in RevokeReason::ALL {
        out[r as usize] = s.revocations(r) as i64;
    }
    let rest = [
        s.store_errors as i64,
        s.reconnects as i64,
        s.last_failover.map_or(-1, |t| {
            t.duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64)
        }),
        nanos(s.lease_remaining),
        nanos(s.store_rtt),
        s.store_connected as i64,
        health.ok as i64,
        log_bridge::dropped() as i64,
        s.failovers as i64,
    ];
    out[1 + REASONS..].copy_from_slice(&rest);
    out
}

/// The snapshot as a Java `long[]`.
pub fn to_java<'local>(
    env: &mut Env<'local>,
    values: &[jlong],
) -> Result<JLongArray<'local>, NativeError> {
    let array = JLongArray::new(env, values.len())?;
    array.set_region(env, 0, values)?;
    Ok(array)
}
