//! The HTTP request as an API Gateway HTTP API event (payload format 2.0), and the function's
//! result mapped back the way API Gateway maps it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use edgefn_isolate::{OutgoingResponse, ResponseBody};

/// What the event needs to know about the request besides its body.
pub struct RequestFacts<'a> {
    /// The function's name (the route is `ANY /<name>/{proxy+}`).
    pub function: &'a str,
    /// The request method.
    pub method: &'a str,
    /// The full original URL.
    pub url: &'a str,
    /// The request headers.
    pub headers: &'a http::HeaderMap,
    /// The client's IP address.
    pub source_ip: String,
    /// The invocation id, used as the request id.
    pub request_id: &'a str,
}

/// Content types API Gateway passes as text; any other body is base64-encoded.
fn is_textual(content_type: Option<&str>) -> bool {
    let Some(content_type) = content_type else {
        return true;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/json"
                | "application/xml"
                | "application/javascript"
                | "application/x-www-form-urlencoded"
                | "application/graphql"
        )
}

/// The API Gateway HTTP API (2.0) event for one request.
pub fn event(facts: &RequestFacts<'_>, body: &[u8]) -> Value {
    let url = url_parts(facts.url);
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in facts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == http::header::COOKIE {
            cookies.extend(value.split(';').map(|c| Value::from(c.trim())));
            continue;
        }
        // Repeated headers are joined with commas, as API Gateway does.
        match headers.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            _ => {
                headers.insert(name.as_str().to_owned(), Value::from(value));
            }
        }
    }
    let mut query = Map::new();
    for (key, value) in url::form_urlencoded_pairs(&url.query) {
        match query.get_mut(&key) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            _ => {
                query.insert(key, Value::from(value));
            }
        }
    }
    let content_type = facts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let (body, is_base64) = if body.is_empty() {
        (Value::Null, false)
    } else {
        match std::str::from_utf8(body) {
            Ok(text) if is_textual(content_type) => (Value::from(text), false),
            _ => (Value::from(BASE64.encode(body)), true),
        }
    };
    let rest = proxy_path(&url.path, facts.function);
    let now = std::time::SystemTime::now();
    let epoch_ms = now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut event = json!({
        "version": "2.0",
        "routeKey": format!("ANY /{}/{{proxy+}}", facts.function),
        "rawPath": url.path,
        "rawQueryString": url.query,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "edgefn",
            "domainName": url.host,
            "domainPrefix": url.host.split('.').next().unwrap_or(""),
            "http": {
                "method": facts.method,
                "path": url.path,
                "protocol": "HTTP/1.1",
                "sourceIp": facts.source_ip,
                "userAgent": facts.headers.get(http::header::USER_AGENT)
                    .and_then(|v| v.to_str().ok()).unwrap_or(""),
            },
            "requestId": facts.request_id,
            "routeKey": format!("ANY /{}/{{proxy+}}", facts.function),
            "stage": "$default",
            "time": humantime::format_rfc3339_seconds(now).to_string(),
            "timeEpoch": epoch_ms,
        },
        "isBase64Encoded": is_base64,
    });
    let object = event.as_object_mut().expect("an object");
    if !cookies.is_empty() {
        object.insert("cookies".into(), Value::Array(cookies));
    }
    if !query.is_empty() {
        object.insert("queryStringParameters".into(), Value::Object(query));
    }
    if let Some(rest) = rest {
        object.insert("pathParameters".into(), json!({ "proxy": rest }));
    }
    if !body.is_null() {
        object.insert("body".into(), body);
    }
    event
}

/// The path below `/<function>/` (or `/functions/v1/<function>/`), if any.
fn proxy_path(path: &str, function: &str) -> Option<String> {
    let below = path
        .strip_prefix("/functions/v1")
        .unwrap_or(path)
        .strip_prefix('/')?
        .strip_prefix(function)?
        .strip_prefix('/')?;
    (!below.is_empty()).then(|| below.to_owned())
}

struct UrlParts {
    host: String,
    path: String,
    query: String,
}

fn url_parts(url: &str) -> UrlParts {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let (host, path_and_query) = match after_scheme.find('/') {
        Some(i) => (&after_scheme[..i], &after_scheme[i..]),
        None => (after_scheme, "/"),
    };
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    UrlParts {
        host: host.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
    }
}

mod url {
    /// `application/x-www-form-urlencoded` pairs of a query string.
    pub(super) fn form_urlencoded_pairs(query: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }
}

/// Why the function's result cannot be turned into a response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidResult(pub String);

/// Maps the function's result (the payload it posted) to an HTTP response (API Gateway 2.0
/// rules): an object with `statusCode` gives status, headers, cookies and body (base64-decoded
/// when `isBase64Encoded`); any other JSON value is a 200 `application/json` body.
pub fn response(payload: &[u8]) -> Result<OutgoingResponse, InvalidResult> {
    let value: Value = serde_json::from_slice(payload)
        .map_err(|e| InvalidResult(format!("the function's result is not JSON: {e}")))?;
    let Some(object) = value.as_object().filter(|o| o.contains_key("statusCode")) else {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        return Ok(OutgoingResponse {
            status: http::StatusCode::OK,
            status_text: None,
            headers,
            body: ResponseBody::Full(Bytes::copy_from_slice(payload)),
        });
    };
    let status = object["statusCode"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| http::StatusCode::from_u16(s).ok())
        .ok_or_else(|| InvalidResult(format!("invalid statusCode {}", object["statusCode"])))?;
    let mut headers = http::HeaderMap::new();
    if let Some(map) = object.get("headers").and_then(Value::as_object) {
        for (name, value) in map {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let name = http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| InvalidResult(format!("invalid header name {name:?}")))?;
            let value = http::HeaderValue::from_str(&text)
                .map_err(|_| InvalidResult(format!("invalid value for header {name}")))?;
            headers.append(name, value);
        }
    }
    if let Some(cookies) = object.get("cookies").and_then(Value::as_array) {
        for cookie in cookies.iter().filter_map(Value::as_str) {
            let value = http::HeaderValue::from_str(cookie)
                .map_err(|_| InvalidResult("invalid cookie".into()))?;
            headers.append(http::header::SET_COOKIE, value);
        }
    }
    let body = match object.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(text)) if object.get("isBase64Encoded") == Some(&Value::Bool(true)) => {
            BASE64
                .decode(text)
                .map_err(|e| InvalidResult(format!("body is not valid base64: {e}")))?
                .into()
        }
        Some(Value::String(text)) => Bytes::from(text.clone()),
        Some(other) => Bytes::from(other.to_string()),
    };
    Ok(OutgoingResponse {
        status,
        status_text: None,
        headers,
        body: if body.is_empty() {
            ResponseBody::Empty
        } else {
            ResponseBody::Full(body)
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_has_path_query_headers_cookies_and_text_body() {
        let mut headers = http::HeaderMap::new();
        headers.insert("content-type", "application/json".parse().unwrap());
        headers.insert("cookie", "a=1; b=2".parse().unwrap());
        headers.append("x-multi", "1".parse().unwrap());
        headers.append("x-multi", "2".parse().unwrap());
        let facts = RequestFacts {
            function: "py",
            method: "POST",
            url: "http://localhost:9000/py/items/7?q=rust&q=js&x=1",
            headers: &headers,
            source_ip: "127.0.0.1".into(),
            request_id: "id-1",
        };
        let event = event(&facts, br#"{"a":1}"#);
        assert_eq!(event["rawPath"], "/py/items/7");
        assert_eq!(event["rawQueryString"], "q=rust&q=js&x=1");
        assert_eq!(
            event["queryStringParameters"],
            json!({"q": "rust,js", "x": "1"})
        );
        assert_eq!(event["pathParameters"], json!({"proxy": "items/7"}));
        assert_eq!(event["cookies"], json!(["a=1", "b=2"]));
        assert_eq!(event["headers"]["x-multi"], "1,2");
        assert_eq!(event["body"], r#"{"a":1}"#);
        assert_eq!(event["isBase64Encoded"], false);
        assert_eq!(event["requestContext"]["http"]["method"], "POST");
    }

    #[test]
    fn binary_bodies_are_base64() {
        let mut headers = http::HeaderMap::new();
        headers.insert("content-type", "application/octet-stream".parse().unwrap());
        let facts = RequestFacts {
            function: "py",
            method: "POST",
            url: "http://h/py",
            headers: &headers,
            source_ip: String::new(),
            request_id: "id",
        };
        let event = event(&facts, &[0, 159, 146, 150]);
        assert_eq!(event["isBase64Encoded"], true);
        assert_eq!(event["body"], "AJ+Slg==");
    }

    #[test]
    fn results_map_like_api_gateway() {
        let r = response(br#"{"statusCode":201,"headers":{"x-a":"1"},"cookies":["s=1"],"body":"aGk=","isBase64Encoded":true}"#).unwrap();
        assert_eq!(r.status, 201);
        assert_eq!(r.headers["x-a"], "1");
        assert_eq!(r.headers["set-cookie"], "s=1");
        assert!(matches!(r.body, ResponseBody::Full(ref b) if b.as_ref() == b"hi"));
        let r = response(br#"{"hello":"world"}"#).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.headers["content-type"], "application/json");
        let r = response(br#""just a string""#).unwrap();
        assert!(matches!(r.body, ResponseBody::Full(ref b) if b.as_ref() == br#""just a string""#));
        assert!(response(b"not json").is_err());
    }
}
