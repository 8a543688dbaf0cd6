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
    let (isolate, mut responses, lines) = serve_n(source, 1);
    (isolate, responses.remove(0), lines)
}

/// [`serve`] with `count` GETs, one after the other.
fn serve_n(source: &str, count: usize) -> (Isolate, Vec<OutgoingResponse>, Vec<String>) {
    serve_requests(source, count, None)
}

/// [`serve`] with a POST of `body`.
fn serve_post(source: &str, body: &'static [u8]) -> OutgoingResponse {
    serve_requests(source, 1, Some(body)).1.remove(0)
}

fn serve_requests(
    source: &str,
    count: usize,
    body: Option<&'static [u8]>,
) -> (Isolate, Vec<OutgoingResponse>, Vec<String>) {
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
    let (isolate, responses) = local.block_on(&runtime, async {
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
        let mut responses = Vec::new();
        for _ in 0..count {
            let response = isolate
                .dispatch(IncomingRequest {
                    method: if body.is_some() {
                        http::Method::POST
                    } else {
                        http::Method::GET
                    },
                    url: "http://localhost/".into(),
                    headers: http::HeaderMap::new(),
                    body: body.map(|bytes| {
                        Box::pin(futures_util::stream::iter([Ok(bytes::Bytes::from_static(
                            bytes,
                        ))])) as edgefn_isolate::BodyStream
                    }),
                    remote_addr: None,
                    client: None,
                })
                .await
                .expect("an answer")
                .expect("a response");
            responses.push(response);
        }
        (isolate, responses)
    });
    let lines = lines.borrow().clone();
    (isolate, responses, lines)
}

/// How many shapes the engine holds for the isolate (from its heap report).
fn shape_count(isolate: &Isolate) -> usize {
    let report = isolate.heap_report();
    let (_, after) = report.split_once("shapes ").expect("a shape count");
    after
        .split_whitespace()
        .next()
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("no shape count in {report}"))
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
           const onerror = Object.getOwnPropertyDescriptor(globalThis, 'onerror');
           return new Response([
             globalThis.onerror, globalThis.onunhandledrejection, globalThis.onrejectionhandled,
             onerror.get.name, onerror.set.name, onerror.enumerable, onerror.configurable,
             addEventListener.length, removeEventListener.length, dispatchEvent.length,
             atob.name, atob.length, btoa.length, fetch.length,
             Object.getOwnPropertyDescriptor(globalThis, 'console').enumerable,
             Object.getOwnPropertyDescriptor(globalThis, 'AbortController').enumerable,
             request.method,
           ].join());
         } };",
    );
    assert_eq!(
        body(&response),
        ",,,onerror,onerror,true,true,3,3,1,atob,1,1,1,false,false,GET"
    );
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

/// The context starts without the Date built-in: the global `Date` is an accessor until the
/// first use, which adds the engine's own Date, with the built-in's property attributes.
#[test]
fn date_is_added_on_first_use_as_the_engine_defines_it() {
    let (_, response, lines) = serve(
        "const before = Object.getOwnPropertyDescriptor(globalThis, 'Date');
         export default { fetch() {
           const now = Date.now();
           const after = Object.getOwnPropertyDescriptor(globalThis, 'Date');
           const copy = structuredClone(new Date(5));
           console.log(new Date(0), { when: new Date(86400000) });
           return new Response([
             typeof before.get, typeof now, after.value === Date, after.writable,
             after.enumerable, after.configurable, Date.name, Date.length,
             Date.prototype.constructor === Date, new Date(0).toISOString(),
             Object.prototype.toString.call(new Date(0)), copy instanceof Date, copy.getTime(),
             JSON.stringify({ d: new Date(0) }), new File([], 'f').lastModified > 0,
             new Date(Date.UTC(2020, 0, 2)).getUTCDate(),
           ].join());
         } };",
    );
    assert_eq!(
        body(&response),
        "function,number,true,true,false,true,Date,7,true,1970-01-01T00:00:00.000Z,\
         [object Date],true,5,{\"d\":\"1970-01-01T00:00:00.000Z\"},true,2"
    );
    assert_eq!(
        lines,
        ["1970-01-01T00:00:00.000Z { when: 1970-01-02T00:00:00.000Z }"]
    );
}

/// The layer adding Date for its own use (a File's `lastModified`) leaves what the tenant put
/// in the global `Date` before, or its deletion, as it was.
#[test]
fn a_tenant_value_for_date_stays_when_the_layer_adds_date() {
    let (_, response, _) = serve(
        "export default { fetch() {
           globalThis.Date = 'tenant Date';
           const replaced = [new File([], 'f').lastModified > 0, globalThis.Date];
           delete globalThis.Date;
           return new Response([...replaced, 'Date' in globalThis].join());
         } };",
    );
    assert_eq!(body(&response), "true,tenant Date,false");
    let (_, response, _) = serve(
        "export default { fetch() {
           delete globalThis.Date;
           const file = new File([], 'f');
           return new Response([file.lastModified > 0, 'Date' in globalThis].join());
         } };",
    );
    assert_eq!(body(&response), "true,false");
}

/// The context starts without ArrayBuffer, the typed arrays, DataView and Atomics: their globals
/// are accessors until the first use of one, which adds the engine's own, with the built-ins'
/// property attributes; the Web layer's bytes are the engine's Uint8Arrays.
#[test]
fn typed_arrays_are_added_on_first_use_as_the_engine_defines_them() {
    let (_, response, _) = serve(
        "const names = ['ArrayBuffer', 'SharedArrayBuffer', 'Uint8ClampedArray', 'Int8Array',
           'Uint8Array', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array',
           'BigUint64Array', 'Float16Array', 'Float32Array', 'Float64Array', 'DataView', 'Atomics'];
         const before = names.map((n) => typeof Object.getOwnPropertyDescriptor(globalThis, n).get);
         export default { async fetch() {
           const bytes = new TextEncoder().encode('h\\u00e9');
           const after = names.map((n) => Object.getOwnPropertyDescriptor(globalThis, n));
           const typed = Object.getPrototypeOf(Int8Array);
           const buffer = await new Response('abc').arrayBuffer();
           const view = new DataView(new ArrayBuffer(8));
           view.setUint16(0, 258);
           return new Response([
             before.every((t) => t === 'function'),
             after.every((d) => 'value' in d && d.writable && !d.enumerable && d.configurable),
             names.slice(0, 15).every((n) => globalThis[n].name === n
               && globalThis[n].prototype.constructor === globalThis[n]),
             names.slice(2, 14).every((n) => Object.getPrototypeOf(globalThis[n]) === typed),
             bytes instanceof Uint8Array, bytes.join(' '), buffer instanceof ArrayBuffer,
             buffer.byteLength, new Uint8Array(view.buffer)[1], Atomics[Symbol.toStringTag],
             new Float16Array([1.5])[0], structuredClone(new Int16Array([-2]))[0],
             ArrayBuffer.isView(view), Object.prototype.toString.call(new SharedArrayBuffer(1)),
           ].join());
         } };",
    );
    assert_eq!(
        body(&response),
        "true,true,true,true,true,104 195 169,true,3,2,Atomics,1.5,-2,true,[object SharedArrayBuffer]"
    );
}

/// The host adding the typed arrays before it hands out bytes (here the body of
/// `arrayBuffer()`) leaves what the tenant put in their globals, or their deletion, as it was.
#[test]
fn a_tenant_value_for_a_typed_array_global_stays_when_the_host_adds_them() {
    let (_, response, _) = serve(
        "globalThis.Uint8Array = 'tenant Uint8Array';
         delete globalThis.DataView;
         globalThis.Atomics = 'tenant Atomics';
         export default { async fetch() {
           const buffer = await new Response('ab').arrayBuffer();
           return new Response([
             Object.prototype.toString.call(buffer), buffer.byteLength, globalThis.Uint8Array,
             'DataView' in globalThis, globalThis.Atomics, typeof Int8Array,
           ].join());
         } };",
    );
    assert_eq!(
        body(&response),
        "[object ArrayBuffer],2,tenant Uint8Array,false,tenant Atomics,function"
    );
}

/// A tenant that froze the global object, or made one of the typed arrays' names
/// non-configurable, before their first use gets an error from that use (the engine could not
/// define them), also when it reads a request body, and the process goes on.
#[test]
fn typed_arrays_after_the_global_object_was_frozen_are_an_error() {
    let frozen = "the typed arrays cannot be added: the global object was frozen or sealed, or one \
                  of their names made non-configurable, before their first use";
    let (_, response, _) = serve(
        "export default { async fetch() {
           Object.freeze(globalThis);
           const errors = [];
           try { await new Response('ab').arrayBuffer(); } catch (e) { errors.push(e.message); }
           try { new Uint8Array(1); } catch (e) { errors.push(e.message); }
           return new Response(errors.join('|'));
         } };",
    );
    assert_eq!(body(&response), format!("{frozen}|{frozen}"));
    // A Uint8Array of the tenant's with the methods the engine adds to its own.
    let (_, response, _) = serve(
        "Object.defineProperty(globalThis, 'Uint8Array', { value: { fromBase64: 1 }, configurable: false });
         export default { async fetch() {
           try { new TextEncoder().encode('x'); } catch (e) { return new Response(e.message); }
           return new Response('encoded');
         } };",
    );
    assert_eq!(body(&response), frozen);
    let response = serve_post(
        "export default { async fetch(request) {
           Object.seal(globalThis);
           try { await request.text(); } catch (e) { return new Response(e.message); }
           return new Response('read');
         } };",
        b"a body",
    );
    assert_eq!(body(&response), frozen);
}

/// No tenant code runs while the engine adds the typed arrays: a getter on
/// `Array.prototype.toString` (which the engine reads) or a Proxy behind the global object that
/// defines `Atomics` meanwhile would make the engine abort the process.
#[test]
fn tenant_code_cannot_run_while_the_typed_arrays_are_added() {
    let (_, response, _) = serve(
        "let calls = 0;
         Object.defineProperty(Array.prototype, 'toString', {
           configurable: true,
           get() { calls++; globalThis.Atomics = 0; return Object.prototype.toString; },
         });
         Object.prototype.Atomics = 'inherited';
         Object.setPrototypeOf(globalThis, new Proxy(Object.getPrototypeOf(globalThis), {
           has(target, key) { calls++; globalThis.Atomics = 0; return Reflect.has(target, key); },
         }));
         export default { fetch() {
           const bytes = new TextEncoder().encode('xy');
           const toString = Object.getOwnPropertyDescriptor(Array.prototype, 'toString');
           return new Response([
             bytes.length, calls, typeof toString.get, typeof Atomics.add,
             new Uint8Array([1, 2]).toString(),
           ].join());
         } };",
    );
    assert_eq!(body(&response), "2,0,function,function,1,2");
}

#[test]
fn a_global_assigned_before_its_first_read_takes_the_value_and_loads_no_chunk() {
    let (isolate, response, _) = serve(
        "const url = Object.getOwnPropertyDescriptor(globalThis, 'URL');
         const crypto = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
         globalThis.URL = 'tenant URL';
         globalThis.crypto = 'tenant crypto';
         const after = Object.getOwnPropertyDescriptor(globalThis, 'URL');
         export default { fetch() {
           return new Response([
             url.get === url.set, url.get.name, url.enumerable,
             crypto.get === crypto.set, crypto.enumerable,
             URL, after.writable, after.enumerable, after.configurable,
             globalThis.crypto, Object.getOwnPropertyDescriptor(globalThis, 'crypto').enumerable,
           ].join());
         } };",
    );
    assert_eq!(
        body(&response),
        "true,URL,false,true,true,tenant URL,true,false,true,tenant crypto,true"
    );
    assert_eq!(isolate.layer_chunks(), Vec::<String>::new());
}

#[test]
fn listeners_load_the_events_chunk_and_see_the_runtime_events() {
    let (isolate, responses, lines) = serve_n(
        "const seen = [];
         addEventListener('error', (event) => { seen.push(event.message); event.preventDefault(); });
         globalThis.onunhandledrejection = (event) => {
           seen.push(`unhandled ${event.reason.message}`);
           event.preventDefault();
         };
         let calls = 0;
         export default { fetch() {
           if (calls++ === 0) {
             reportError(new Error('reported'));
             Promise.reject(new Error('rejected'));
           }
           return new Response(seen.join('; '));
         } };",
        2,
    );
    assert_eq!(body(&responses[0]), "Uncaught Error: reported");
    assert_eq!(
        body(&responses[1]),
        "Uncaught Error: reported; unhandled rejected"
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("reported") || l.contains("rejected")),
        "canceled events are not logged: {lines:?}"
    );
    assert_eq!(isolate.layer_chunks(), vec!["events".to_owned()]);
}

#[test]
fn a_rejection_reported_before_the_events_chunk_loads_can_still_be_handled_later() {
    // The rejection is reported while no listener can exist; the listener added later (which
    // loads the chunk) still hears that it was handled.
    let (isolate, responses, lines) = serve_n(
        "const seen = [];
         let calls = 0, rejected;
         export default { fetch() {
           calls++;
           if (calls === 1) rejected = Promise.reject(new Error('early'));
           if (calls === 2) {
             addEventListener('rejectionhandled', (event) => seen.push(event.reason.message));
             rejected.catch(() => {});
           }
           return new Response(`${calls}: ${seen.join()}`);
         } };",
        3,
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Uncaught (in promise) Error: early")),
        "{lines:?}"
    );
    assert_eq!(body(&responses[2]), "3: early");
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

/// The names of the fields of the layer's records for a request (its context, the request's
/// and the response's records, a headers record, a body, Deno.serve's `info` and its
/// `remoteAddr`).
const RECORD_FIELDS: &str = "'requestId', 'responded', 'finished', 'finishError', 'completed', \
    'inOnError', 'method', 'url', 'h', 'headers', 'body', 'redirect', 'signal', 'list', 'guard', \
    'sorted', 'kind', 'source', 'stream', 'used', 'type', 'status', 'statusText', 'remoteAddr', \
    'transport', 'hostname', 'port'";

/// An isolate that has served 16 requests loads the shapes chunk, once, which keeps the shapes
/// of the objects a request makes; the requests before and after it are answered alike. The
/// objects that keep the shapes are made, and stored, without running tenant code: a setter the
/// tenant put on `Object.prototype` under each name of a record's field, or on `Array.prototype`
/// under the indexes only the layer's list of those objects reaches, is never called.
#[test]
fn an_isolate_keeps_the_shapes_of_a_requests_objects_after_sixteen_requests() {
    let watch = format!(
        "const calls = [];
         for (const name of [{RECORD_FIELDS}]) {{
           Object.defineProperty(Object.prototype, name, {{
             set(value) {{ calls.push(name); }}, configurable: true,
           }});
         }}
         for (let index = 10; index < 64; index++) {{
           Object.defineProperty(Array.prototype, index, {{
             set(value) {{ calls.push(`[${{index}}]`); }}, configurable: true,
           }});
         }}
         let served = 0;"
    );
    let exported = format!(
        "{watch}
         export default {{ fetch(request, env, ctx) {{
           ctx.waitUntil(Promise.resolve());
           return new Response(`${{++served}} ${{request.method}} ${{request.url}} \
             ${{calls.join() || 'no setter called'}}`, {{ headers: {{ 'x-served': String(served) }} }});
         }} }};"
    );
    let (isolate, responses, lines) = serve_n(&exported, 15);
    assert!(
        isolate.layer_chunks().is_empty(),
        "{:?}",
        isolate.layer_chunks()
    );
    assert_eq!(responses.len(), 15);
    assert!(lines.is_empty(), "{lines:?}");
    let shapes_before = shape_count(&isolate);

    let (isolate, responses, lines) = serve_n(&exported, 40);
    assert_eq!(isolate.layer_chunks(), ["shapes"]);
    assert!(lines.is_empty(), "{lines:?}");
    // The shapes of a request's class instances outlive it: two for each of Request, Response
    // and ExecutionContext (the layer's records are arrays, which have no shape of their own).
    let shapes_after = shape_count(&isolate);
    assert!(
        shapes_after >= shapes_before + 6,
        "{shapes_before} shapes after 15 requests, {shapes_after} after 40"
    );
    for (index, response) in responses.iter().enumerate() {
        let served = index + 1;
        assert_eq!(
            body(response),
            format!("{served} GET http://localhost/ no setter called")
        );
        assert_eq!(response.headers["x-served"], served.to_string().as_str());
        assert_eq!(response.headers["content-type"], "text/plain;charset=UTF-8");
    }

    let served = format!(
        "{watch}
         Deno.serve(async (request, info) => {{
           const {{ transport, hostname, port }} = info.remoteAddr;
           return new Response(`${{++served}} ${{transport}} ${{hostname}}:${{port}} \
             ${{calls.join() || 'no setter called'}}`, {{ status: 201 }});
         }});"
    );
    let (isolate, responses, lines) = serve_n(&served, 40);
    assert_eq!(isolate.layer_chunks(), ["shapes"]);
    assert!(lines.is_empty(), "{lines:?}");
    for (index, response) in responses.iter().enumerate() {
        assert_eq!(response.status, 201);
        assert_eq!(
            body(response),
            format!("{} tcp :0 no setter called", index + 1)
        );
    }
}

#[test]
fn a_streamed_response_loads_only_the_streams_chunk() {
    let (isolate, response, _) = serve(
        "export default { fetch: () => new Response(new ReadableStream({ \
             start(c) { c.enqueue(new Uint8Array([1])); c.close(); } })) };",
    );
    assert!(matches!(response.body, ResponseBody::Stream(_)));
    assert_eq!(isolate.layer_chunks(), ["streams", "buffers"]);
}

#[test]
fn each_global_loads_only_the_chunks_it_needs() {
    let cases = [
        ("btoa(atob('aGk='))", "aGk=", &["encoding", "buffers"][..]),
        (
            "new TextDecoder().decode(new TextEncoder().encode('é'))",
            "é",
            &["encoding", "buffers"],
        ),
        (
            "typeof crypto.randomUUID() + crypto.getRandomValues(new Uint8Array(2)).length",
            "string2",
            &["crypto", "buffers"],
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
            "fetch('not a URL').catch((error) => error.constructor.name)",
            "TypeError",
            &["fetch"],
        ),
        (
            "new Response(new ReadableStream({ start(c) { c.enqueue(new Uint8Array([104, 105])); c.close(); } })).text()",
            "hi",
            &["streams", "buffers"],
        ),
        (
            "new Blob(['ab']).size + ReadableStream.name + typeof TransformStream",
            "2ReadableStreamfunction",
            &["streams", "extension", "buffers"],
        ),
        (
            "structuredClone({ a: [1, new Date(0)] }).a[1].getTime()",
            "0",
            &["clone"],
        ),
        (
            "structuredClone(new Blob(['xy'])).size",
            "2",
            &["streams", "extension", "buffers", "clone"],
        ),
        (
            "typeof WritableStream + typeof CountQueuingStrategy",
            "functionfunction",
            &["streams"],
        ),
        // Streams first, then a chunk that uses them: one ReadableStream class for both.
        (
            "ReadableStream.name + (new TransformStream().readable instanceof ReadableStream)",
            "ReadableStreamtrue",
            &["streams", "extension"],
        ),
        (
            "new TextEncoderStream().readable instanceof ReadableStream",
            "true",
            &["streams", "extension"],
        ),
        (
            "new URL('http://a/b').pathname + URLSearchParams.name",
            "/bURLSearchParams",
            &["url"],
        ),
        (
            "crypto.subtle.digest('SHA-256', new Uint8Array(1)).then((d) => d.byteLength + CryptoKey.name)",
            "32CryptoKey",
            &["crypto", "subtle", "buffers"],
        ),
        (
            "new URLPattern({ pathname: '/a/:id' }).exec('http://h/a/7').pathname.groups.id",
            "7",
            &["urlpattern"],
        ),
        ("Response.json({ a: 1 }).text()", "{\"a\":1}", &[]),
    ];
    for (expression, answer, chunks) in cases {
        let (isolate, response, lines) = serve(&format!(
            "export default {{ async fetch() {{ return new Response(String(await ({expression}))); }} }};"
        ));
        assert_eq!(body(&response), answer, "{expression}: {lines:?}");
        assert_eq!(isolate.layer_chunks(), chunks, "{expression}");
    }
}
