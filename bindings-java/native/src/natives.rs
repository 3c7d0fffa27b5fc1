//! The `static native` methods of `io.elect.NativeElection`, bound in `JNI_OnLoad`.
//!
//! `native_method!` checks each Rust signature against its JNI descriptor at compile time;
//! `RegisterNatives` checks the descriptors against the Java declarations at load time. Every
//! body runs inside `with_env(...).resolve::<ThrowElect>()`: errors and panics become Java
//! exceptions and never unwind into the JVM.

use std::time::Duration;

use elect_core::{Config, Election, Error};
use jni::objects::{JClass, JLongArray, JObject, JObjectArray, JString};
use jni::sys::{jboolean, jlong};
use jni::{jni_sig, jni_str, native_method, Env, EnvUnowned, JValue, NativeMethod};

use crate::cache;
use crate::errors::{NativeError, ThrowElect};
use crate::events;
use crate::groups::{group_fencing_token, group_free, group_is_leader, group_leading, group_open};
use crate::handle::Slot;
use crate::observe::{self, set_log_level};
use crate::terms::{
    lease_remaining_millis, term_begin, term_free, term_remaining_millis, term_token, term_wait,
};

type Res<T> = Result<T, NativeError>;

const METHODS: &[NativeMethod] = &[
    native_method! { static raw fn check(uri: JString, name: JString, options: JString[]) -> JString },
    native_method! { static raw fn open(uri: JString, name: JString, options: JString[], sink: io.elect.EventSink) -> jlong },
    native_method! { static raw fn start(handle: jlong) },
    native_method! { static raw fn observe(handle: jlong) },
    native_method! { static raw fn is_leader(handle: jlong) -> jboolean },
    native_method! { static raw fn fencing_token(handle: jlong) -> jlong },
    native_method! { static raw fn wait_leader(handle: jlong, timeout_millis: jlong) -> jboolean },
    native_method! { static raw fn resign(handle: jlong) },
    native_method! { static raw fn proclaim(handle: jlong, value: JString) },
    native_method! { static raw fn hand_over_to(handle: jlong, successor: JString) },
    native_method! { static raw fn leader(handle: jlong) -> io.elect.LeaderInfo },
    native_method! { static raw fn members(handle: jlong) -> io.elect.Member[] },
    native_method! { static raw fn close(handle: jlong) },
    native_method! { static raw fn free(handle: jlong) },
    native_method! { static raw fn id(handle: jlong) -> JString },
    native_method! { static raw fn version() -> JString },
    native_method! { static raw fn tables() -> JString },
    native_method! { static raw fn panic_for_tests() },
    native_method! { static raw fn set_log_level(min_level: jint) },
    native_method! { static raw fn stats(handle: jlong) -> jlong[] },
    native_method! { static raw fn lease_remaining_millis(handle: jlong) -> jlong },
    native_method! { static raw fn term_begin(handle: jlong, min_lease_millis: jlong) -> jlong },
    native_method! { static raw fn term_token(term: jlong) -> jlong },
    native_method! { static raw fn term_remaining_millis(term: jlong) -> jlong },
    native_method! { static raw fn term_wait(term: jlong, timeout_millis: jlong) -> jboolean },
    native_method! { static raw fn term_free(term: jlong) },
    native_method! { static raw fn group_open(uri: JString, name: JString, shards: jint, cap: jint, options: JString[], sinks: io.elect.EventSink[]) -> jlong },
    native_method! { static raw fn group_is_leader(handle: jlong, shard: jint) -> jboolean },
    native_method! { static raw fn group_fencing_token(handle: jlong, shard: jint) -> jlong },
    native_method! { static raw fn group_leading(handle: jlong) -> jint[] },
    native_method! { static raw fn group_free(handle: jlong) },
];

/// Binds [`METHODS`], then checks that Java declares no native method beyond them: together,
/// every Rust method has its Java declaration and every Java declaration its Rust method.
pub fn register(env: &mut Env<'_>) -> Res<()> {
    let class = env.find_class(jni_str!("io/elect/NativeElection"))?;
    // SAFETY: every entry comes from `native_method!`, whose wrapper has the ABI of its
    // descriptor, and every one is declared `static` both here and in Java (the macro's ABI
    // check would catch a mismatch on first call; RegisterNatives catches name/descriptor ones).
    unsafe { env.register_native_methods(&class, METHODS) }?;
    let declared = java_natives(env, &class)?;
    if declared.len() != METHODS.len() {
        return Err(Error::internal(format!(
            "io.elect.NativeElection declares {} native methods ({}) but libelect_jni binds {}",
            declared.len(),
            declared.join(", "),
            METHODS.len()
        ))
        .into());
    }
    Ok(())
}

/// The names of the native methods `class` declares, by reflection.
fn java_natives(env: &mut Env<'_>, class: &JClass<'_>) -> Res<Vec<String>> {
    const NATIVE: i32 = 0x100; // java.lang.reflect.Modifier.NATIVE
    let methods = env
        .call_method(
            class,
            jni_str!("getDeclaredMethods"),
            jni_sig!("()[Ljava/lang/reflect/Method;"),
            &[],
        )?
        .l()?;
    // SAFETY: `getDeclaredMethods` returns a Method[] (a local reference of this frame, not
    // wrapped elsewhere: `methods` is moved into the array wrapper).
    let methods = unsafe { JObjectArray::<JObject>::from_raw(env, methods.into_raw()) };
    let mut names = Vec::new();
    for i in 0..methods.len(env)? {
        let method = methods.get_element(env, i)?;
        let modifiers = env
            .call_method(&method, jni_str!("getModifiers"), jni_sig!("()I"), &[])?
            .i()?;
        if modifiers & NATIVE != 0 {
            let name = env
                .call_method(
                    &method,
                    jni_str!("getName"),
                    jni_sig!("()Ljava/lang/String;"),
                    &[],
                )?
                .l()?;
            // SAFETY: `getName` returns a non-null String.
            let name = unsafe { JString::from_raw(env, name.into_raw()) };
            names.push(name.try_to_string(env)?);
            // One local reference per native method would outgrow the frame's 32 (-Xcheck:jni
            // warns on stdout, and the loop runs once per declared method).
            env.delete_local_ref(name);
        }
        env.delete_local_ref(method);
    }
    Ok(names)
}

/// Runs a native method body: errors and panics become exceptions, the method returns 0/null.
pub(crate) fn entry<'local, T: Default>(
    mut env: EnvUnowned<'local>,
    body: impl FnOnce(&mut Env<'local>) -> Res<T>,
) -> T {
    env.with_env(body).resolve::<ThrowElect>()
}

/// The slot behind a handle from Java. Private to this module: only the native methods of
/// `NativeElection`, which `LeaderElection` calls with its own handle, reach it.
fn slot<'a>(handle: jlong) -> &'a Slot {
    // SAFETY: `LeaderElection` passes only the handle `open` gave it, and its Cleaner calls
    // `free` only once the object is unreachable, i.e. after every other call (`Slot::get`).
    unsafe { Slot::get(handle) }
}

/// Runs `f` on the election behind `handle` (a `Closed` error after `close()`).
pub(crate) fn with_election<'local, T: Default>(
    env: EnvUnowned<'local>,
    handle: jlong,
    f: impl FnOnce(&mut Env<'local>, &Election) -> Res<T>,
) -> T {
    entry(env, |env| {
        let election = slot(handle).election()?;
        f(env, &election)
    })
}

pub(crate) fn required(env: &Env<'_>, s: &JString<'_>, what: &str) -> Res<String> {
    if s.is_null() {
        return Err(Error::invalid(format!("{what}: must not be null")).into());
    }
    Ok(s.try_to_string(env)?)
}

/// The store's config from a URI and the builder's key/value pairs, each `set` validated like
/// a query parameter, with the election's name checked too.
pub(crate) fn config<'local>(
    env: &mut Env<'local>,
    uri: &JString<'local>,
    name: &str,
    options: &JObjectArray<'local, JString<'local>>,
) -> Res<Config> {
    let uri = required(env, uri, "uri")?;
    elect_core::validate_name(name)?;
    // Key/value pairs from the builder, validated like query parameters.
    let mut pairs = Vec::new();
    if !options.is_null() {
        let len = options.len(env)?;
        for i in (0..len.saturating_sub(1)).step_by(2) {
            let key = options.get_element(env, i)?;
            let value = options.get_element(env, i + 1)?;
            let key = required(env, &key, "option name")?;
            let value = required(env, &value, &format!("option `{key}`"))?;
            pairs.push((key, value));
        }
    }
    Ok(Config::parse_with(&uri, pairs)?)
}

/// Validates what `open` would get, without connecting; returns the candidate's id (the
/// configured one or the default `open` would pick, which the caller then passes as `id`).
fn check<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    uri: JString<'local>,
    name: JString<'local>,
    options: JObjectArray<'local, JString<'local>>,
) -> JString<'local> {
    entry(env, |env| {
        let name = required(env, &name, "name")?;
        let config = config(env, &uri, &name, &options)?;
        Ok(JString::from_str(env, &config.id)?)
    })
}

fn open<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    uri: JString<'local>,
    name: JString<'local>,
    options: JObjectArray<'local, JString<'local>>,
    sink: JObject<'local>,
) -> jlong {
    entry(env, |env| {
        let name = required(env, &name, "name")?;
        let config = config(env, &uri, &name, &options)?;
        let handler = if sink.is_null() {
            None
        } else {
            Some(events::handler(env.new_global_ref(&sink)?))
        };
        Ok(Slot::into_handle(Election::open_with(
            config, &name, handler,
        )?))
    })
}

fn start<'local>(env: EnvUnowned<'local>, _class: JClass<'local>, handle: jlong) {
    with_election(env, handle, |_, e| Ok(e.start()?))
}

fn observe<'local>(env: EnvUnowned<'local>, _class: JClass<'local>, handle: jlong) {
    with_election(env, handle, |_, e| Ok(e.observe()?))
}

fn is_leader<'local>(env: EnvUnowned<'local>, _class: JClass<'local>, handle: jlong) -> jboolean {
    entry(env, |_| Ok(slot(handle).is_leader()))
}

fn fencing_token<'local>(env: EnvUnowned<'local>, _class: JClass<'local>, handle: jlong) -> jlong {
    entry(env, |_| {
        let token = slot(handle).election().ok().and_then(|e| e.fencing_token());
        Ok(token.unwrap_or(0) as jlong)
    })
}

fn wait_leader<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    timeout_millis: jlong,
) -> jboolean {
    with_election(env, handle, |_, e| {
        let timeout = u64::try_from(timeout_millis)
            .ok()
            .map(Duration::from_millis);
        Ok(e.wait_leader(timeout)?)
    })
}

fn resign<'local>(env: EnvUnowned<'local>, _class: JClass<'local>, handle: jlong) {
    with_election(env, handle, |_, e| Ok(e.resign()?))
}

fn proclaim<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    value: JString<'local>,
) {
    with_election(env, handle, |env, e| {
        let value = required(env, &value, "value")?;
        Ok(e.proclaim(&value)?)
    })
}

fn hand_over_to<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    successor: JString<'local>,
) {
    with_election(env, handle, |env, e| {
        let successor = required(env, &successor, "successor")?;
        Ok(e.hand_over_to(&successor)?)
    })
}

fn leader<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> JObject<'local> {
    with_election(env, handle, |env, e| {
        let Some(info) = e.leader()? else {
            return Ok(JObject::null());
        };
        let id = JString::from_str(env, &info.id)?;
        let value = JString::from_str(env, &info.value)?;
        let c = cache::get();
        let args = [
            JValue::Object(&id).as_jni(),
            JValue::Object(&value).as_jni(),
            JValue::Long(info.term as i64).as_jni(),
        ];
        // SAFETY: `leader_info_new` is the `(String, String, long)` constructor of
        // `leader_info`, matching `args`.
        Ok(unsafe { env.new_object_unchecked(&c.leader_info, c.leader_info_new, &args) }?)
    })
}

fn members<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> JObjectArray<'local> {
    with_election(env, handle, |env, e| {
        let members = e.members()?;
        let c = cache::get();
        let array = env.new_object_array(members.len() as i32, &c.member, JObject::null())?;
        for (i, m) in members.iter().enumerate() {
            let id = JString::from_str(env, &m.id)?;
            let value = JString::from_str(env, &m.value)?;
            let args = [
                JValue::Object(&id).as_jni(),
                JValue::Object(&value).as_jni(),
            ];
            // SAFETY: `member_new` is the `(String, String)` constructor of `member`.
            let member = unsafe { env.new_object_unchecked(&c.member, c.member_new, &args) }?;
            array.set_element(env, i, &member)?;
            env.delete_local_ref(member);
        }
        Ok(array)
    })
}

fn close<'local>(env: EnvUnowned<'local>, _class: JClass<'local>, handle: jlong) {
    entry(env, |_| {
        slot(handle).close();
        Ok(())
    })
}

fn free<'local>(env: EnvUnowned<'local>, _class: JClass<'local>, handle: jlong) {
    entry(env, |_| {
        // SAFETY: called once, by the Cleaner of the LeaderElection that owns `handle`, when
        // no other call on it can happen any more.
        unsafe { Slot::free(handle) };
        Ok(())
    })
}

/// The metrics snapshot (`observe::stats_array`): atomic loads, no store round trip.
fn stats<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> JLongArray<'local> {
    with_election(env, handle, |env, e| {
        observe::to_java(env, &observe::stats_array(e))
    })
}

fn id<'local>(env: EnvUnowned<'local>, _class: JClass<'local>, handle: jlong) -> JString<'local> {
    with_election(env, handle, |env, e| Ok(JString::from_str(env, e.id())?))
}

fn version<'local>(env: EnvUnowned<'local>, _class: JClass<'local>) -> JString<'local> {
    entry(env, |env| Ok(JString::from_str(env, elect_core::VERSION)?))
}

/// Core's tables the Java side mirrors, one row a line, for the tests that check the mirrors:
/// `option <name> <kind> <default>`, `event <number> <name>`, `reason <number> <name>`.
fn tables<'local>(env: EnvUnowned<'local>, _class: JClass<'local>) -> JString<'local> {
    use elect_core::options::CommonOption;
    use elect_core::{EventKind, RevokeReason};
    entry(env, |env| {
        let mut rows: Vec<String> = CommonOption::ALL
            .iter()
            .map(|o| {
                format!(
                    "option {} {} {}",
                    o.name(),
                    o.kind().name(),
                    o.default_text()
                )
            })
            .collect();
        rows.extend(EventKind::ALL.map(|k| format!("event {} {}", k as i32, k.name())));
        rows.extend(RevokeReason::ALL.map(|r| format!("reason {} {}", r as i32, r.name())));
        Ok(JString::from_str(env, rows.join("\n"))?)
    })
}

/// Lets the tests check that a Rust panic surfaces as a Java exception.
fn panic_for_tests<'local>(env: EnvUnowned<'local>, _class: JClass<'local>) {
    entry(env, |_| -> Res<()> {
        panic!("panic requested by NativeElection.panicForTests()")
    })
}
