//! The chunks of the Web layer are loaded into an isolate on the first use of one of their
//! names, and not before: a function that only answers requests, reports errors and leaves
//! rejections unhandled never loads the events chunk, and one that listens for events does.

use std::cell::RefCell;
use std::rc::Rc;

use edgefn_isolate::{
    FetchClient, IncomingRequest, Isolate, LogLevel, ModuleCache, OutgoingResponse, ResponseBody,
    TenantOptions,
};

/// Boots `source` as a function in a fresh prepared isolate, serves one GET and returns the
/// isolate, the response and the lines the function logged (the rejections the request left
/// unhandled are reported when its entry into JavaScript ends).
fn serve(source: &str) -> (Isolate, OutgoingResponse, Vec<String>) {
    let folder = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(folder.path().join("index.js"), source).expect("a writable folder");
    let lines = Rc::new(RefCell::new(Vec::new()));
    let log = {
        let lines = lines.clone();
        Rc::new(move |_: LogLevel, line: &str| lines.borrow_mut().push(line.to_owned()))
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let local = tokio::task::LocalSet::new();
    let (isolate, response) = local.block_on(&runtime, async {
        let fetch = FetchClient::new(Vec::new().into(), "edgefn".into());
        let isolate = Isolate::prepare("edgefn", fetch).await.expect("an isolate");
        isolate
            .assign(TenantOptions {
                memory_limit_bytes: 0,
                cpu_time_limit: None,
                env: Default::default(),
                log,
                allowed_hosts: None,
            })
            .expect("assign");
        isolate
            .boot(folder.path(), &ModuleCache::disabled())
            .await
            .expect("the function boots");
        let response = isolate
            .dispatch(IncomingRequest {
                method: http::Method::GET,
                url: "http://localhost/".into(),
                headers: http::HeaderMap::new(),
                body: None,
                remote_addr: None,
                client: None,
            })
            .await
            .expect("an answer")
            .expect("a response");
        (isolate, response)
    });
    let lines = lines.borrow().clone();
    (isolate, response, lines)
}

fn body(response: &OutgoingResponse) -> String {
    match &response.body {
        ResponseBody::Full(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        ResponseBody::Empty => String::new(),
        ResponseBody::Stream(_) => panic!("a streamed body"),
    }
}

#[test]
fn a_plain_function_loads_no_chunk() {
    let (isolate, response, lines) = serve(
        "export default { fetch(request) {
           reportError(new Error('reported'));
           Promise.reject(new Error('unhandled'));
           return new Response([
             String(globalThis.onerror), String(globalThis.onunhandledrejection),
             typeof addEventListener, typeof dispatchEvent, request.method,
           ].join(' '));
         } };",
    );
    assert_eq!(body(&response), "null null function function GET");
    assert!(
        lines.iter().any(|l| l.contains("Uncaught Error: reported")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Uncaught (in promise) Error: unhandled")),
        "{lines:?}"
    );
    assert_eq!(isolate.layer_chunks(), Vec::<String>::new());
}

#[test]
fn a_listener_loads_the_events_chunk_and_sees_the_runtime_events() {
    let (isolate, response, lines) = serve(
        "const seen = [];
         addEventListener('error', (event) => { seen.push(event.message); event.preventDefault(); });
         globalThis.onunhandledrejection = (event) => { seen.push(String(event.reason)); };
         export default { fetch() {
           reportError(new Error('reported'));
           return new Response(seen.join('; '));
         } };",
    );
    assert_eq!(body(&response), "Uncaught Error: reported");
    assert!(
        !lines.iter().any(|l| l.contains("reported")),
        "a canceled error event is not logged: {lines:?}"
    );
    assert_eq!(isolate.layer_chunks(), vec!["events".to_owned()]);
}

#[test]
fn a_request_signal_and_an_abort_controller_load_the_events_chunk() {
    let (isolate, response, _) = serve(
        "export default { fetch(request) {
           const controller = new AbortController();
           controller.abort('stop');
           return new Response(`${request.signal.aborted} ${controller.signal.reason} \
             ${request.signal instanceof EventTarget}`);
         } };",
    );
    assert_eq!(body(&response), "false stop true");
    assert_eq!(isolate.layer_chunks(), vec!["events".to_owned()]);
}

#[test]
fn each_global_loads_only_the_chunks_it_needs() {
    let cases = [
        ("btoa(atob('aGk='))", "aGk=", &["encoding"][..]),
        (
            "new TextDecoder().decode(new TextEncoder().encode('é'))",
            "é",
            &["encoding"],
        ),
        (
            "typeof crypto.randomUUID() + crypto.getRandomValues(new Uint8Array(2)).length",
            "string2",
            &["crypto"],
        ),
        (
            "typeof performance.now() + (performance instanceof EventTarget)",
            "numbertrue",
            &["timing", "events"],
        ),
        (
            "(console.log('a line'), typeof console.table)",
            "function",
            &["console"],
        ),
        (
            "(console.log({ an: 'object' }), 'logged')",
            "logged",
            &["console", "inspect"],
        ),
        (
            "typeof fetch + fetch('not a URL').catch(() => 1).constructor.name",
            "functionPromise",
            &["fetch"],
        ),
        ("typeof Response.json", "function", &[]),
    ];
    for (expression, answer, chunks) in cases {
        let (isolate, response, lines) = serve(&format!(
            "export default {{ fetch: () => new Response(String({expression})) }};"
        ));
        assert_eq!(body(&response), answer, "{expression}: {lines:?}");
        assert_eq!(isolate.layer_chunks(), chunks, "{expression}");
    }
}
