//! Class references and method ids, looked up once in `JNI_OnLoad`.
//!
//! The dispatcher thread is not a Java thread: `FindClass` there would search the system class
//! loader, which does not see `io.elect` inside a Spring Boot fat jar. Looking everything up at
//! load time, on the thread that runs `System.load`, uses the loader of the `io.elect` classes,
//! and makes a renamed method fail at startup.

use std::sync::OnceLock;

use jni::ids::{JMethodID, JStaticMethodID};
use jni::objects::JClass;
use jni::refs::Global;
use jni::{jni_sig, jni_str, Env};

pub struct Cache {
    /// `io.elect.ErrorCode`, the one Java table of error codes.
    pub error_code: Global<JClass<'static>>,
    /// `static ElectException exceptionFor(int code, String message)`
    pub exception_for: JStaticMethodID,
    /// `static String nameOf(int code)`, null for an unknown code.
    pub name_of: JStaticMethodID,
    /// `static int count()`
    pub code_count: JStaticMethodID,
    /// `EventSink.dispatch(int kind, long term, String a, String b)`
    pub sink_dispatch: JMethodID,
    /// `EventSink.listenerFailed(Throwable t, String event) -> String message`
    pub sink_failed: JMethodID,
    pub leader_info: Global<JClass<'static>>,
    /// `LeaderInfo(String id, String value, long term)`
    pub leader_info_new: JMethodID,
    pub member: Global<JClass<'static>>,
    /// `Member(String id, String value)`
    pub member_new: JMethodID,
}

static CACHE: OnceLock<Cache> = OnceLock::new();

/// The cache. Native methods are registered only after [`init`] succeeded, and events can only
/// come from an election a native method opened, so every caller runs after `init`.
pub fn get() -> &'static Cache {
    CACHE
        .get()
        .expect("libelect_jni used before JNI_OnLoad finished")
}

pub fn init(env: &mut Env<'_>) -> jni::errors::Result<()> {
    if CACHE.get().is_some() {
        return Ok(());
    }
    let error_code = env.find_class(jni_str!("io/elect/ErrorCode"))?;
    let sink = env.find_class(jni_str!("io/elect/EventSink"))?;
    let leader_info = env.find_class(jni_str!("io/elect/LeaderInfo"))?;
    let member = env.find_class(jni_str!("io/elect/Member"))?;
    let cache = Cache {
        exception_for: env.get_static_method_id(
            &error_code,
            jni_str!("exceptionFor"),
            jni_sig!("(ILjava/lang/String;)Lio/elect/ElectException;"),
        )?,
        name_of: env.get_static_method_id(
            &error_code,
            jni_str!("nameOf"),
            jni_sig!("(I)Ljava/lang/String;"),
        )?,
        code_count: env.get_static_method_id(&error_code, jni_str!("count"), jni_sig!("()I"))?,
        sink_dispatch: env.get_method_id(
            &sink,
            jni_str!("dispatch"),
            jni_sig!("(IJLjava/lang/String;Ljava/lang/String;)V"),
        )?,
        sink_failed: env.get_method_id(
            &sink,
            jni_str!("listenerFailed"),
            jni_sig!("(Ljava/lang/Throwable;Ljava/lang/String;)Ljava/lang/String;"),
        )?,
        leader_info_new: env.get_method_id(
            &leader_info,
            jni_str!("<init>"),
            jni_sig!("(Ljava/lang/String;Ljava/lang/String;J)V"),
        )?,
        member_new: env.get_method_id(
            &member,
            jni_str!("<init>"),
            jni_sig!("(Ljava/lang/String;Ljava/lang/String;)V"),
        )?,
        error_code: env.new_global_ref(&error_code)?,
        leader_info: env.new_global_ref(&leader_info)?,
        member: env.new_global_ref(&member)?,
    };
    let _ = CACHE.set(cache);
    Ok(())
}
