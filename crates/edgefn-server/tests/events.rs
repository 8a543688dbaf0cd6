//! Worker events reach the event worker (`--event-worker`), a JS function reading them with
//! `for await (const event of new EventManager())`, with the right fields.

mod support;

use support::TestServer;

/// The event worker logs every event it receives as one JSON line.
const EVENT_WORKER: &str = r#"
for await (const event of new EventManager()) {
    console.log(JSON.stringify(event));
}
"#;

/// The events the event worker logged so far, parsed.
fn received() -> Vec<serde_json::Value> {
    support::function_logs("event-worker")
        .iter()
        .filter_map(|line| line["fields"]["message"].as_str())
        .filter_map(|message| serde_json::from_str(message).ok())
        .collect()
}

/// Waits until the event worker received an event matching `wanted`.
async fn event(wanted: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let find = || async { received().into_iter().find(|e| wanted(e)) };
    support::eventually(find, Option::is_some)
        .await
        .unwrap_or_else(|| panic!("event not received; got {:#?}", received()))
}

fn is(event: &serde_json::Value, event_type: &str, function: &str) -> bool {
    event["event_type"] == event_type && event["function"] == function
}

#[tokio::test]
async fn every_kind_of_event_reaches_the_event_worker() {
    let srv = TestServer::new()
        .event_worker(EVENT_WORKER)
        .function(
            "ok",
            "Deno.serve(() => { console.warn('careful now'); return new Response('ok'); });",
        )
        .function("broken", "const = ;")
        .function(
            "thrower",
            "Deno.serve(() => { throw new RangeError('thrown for the event'); });",
        )
        .function("spinner", "Deno.serve(() => { while (true) {} });")
        .config(|c| {
            let spinner = c.functions.entry("spinner".into()).or_default();
            spinner.limits.cpu_soft_ms = Some(50);
            spinner.limits.cpu_hard_ms = Some(100);
        })
        .start()
        .await;
    assert_eq!(srv.get_text("/ok").await, (200, "ok".into()));
    assert_eq!(srv.get_json("/broken").await.0, 500);
    assert_eq!(srv.get_json("/thrower").await.0, 500);
    assert_eq!(srv.get_json("/spinner").await.0, 546);

    let boot = event(|e| is(e, "Boot", "ok")).await;
    assert!(
        boot["event"]["boot_time_ms"].as_f64().unwrap() > 0.0,
        "{boot}"
    );
    assert!(boot["worker_id"].as_u64().is_some(), "{boot}");
    assert!(boot["timestamp"].as_str().unwrap().ends_with('Z'), "{boot}");

    let log = event(|e| is(e, "Log", "ok")).await;
    assert_eq!(
        log["event"],
        serde_json::json!({"level": "warn", "message": "careful now"})
    );
    assert_eq!(log["worker_id"], boot["worker_id"]);

    let failure = event(|e| is(e, "BootFailure", "broken")).await;
    assert!(
        failure["event"]["message"]
            .as_str()
            .unwrap()
            .contains("SyntaxError"),
        "{failure}"
    );

    let uncaught = event(|e| is(e, "UncaughtException", "thrower")).await;
    assert_eq!(
        uncaught["event"]["message"],
        "RangeError: thrown for the event"
    );
    assert!(uncaught["event"]["stack"].as_str().is_some(), "{uncaught}");

    let shutdown = event(|e| is(e, "Shutdown", "spinner")).await;
    assert_eq!(shutdown["event"]["reason"], "cpu");
    assert!(
        shutdown["event"]["cpu_time_ms"].as_f64().unwrap() >= 100.0,
        "{shutdown}"
    );
    assert!(
        shutdown["event"]["memory_bytes"].as_u64().unwrap() > 0,
        "{shutdown}"
    );

    // The event worker does not receive its own log lines (no feedback loop).
    assert!(received().iter().all(|e| e["function"] != "event-worker"));
}
