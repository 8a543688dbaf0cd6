// XHR §5 FormData; FormData bodies (multipart/form-data, HTML §4.10.21.8) and
// Body#formData() (Fetch §5.3) for multipart/form-data and urlencoded bodies.
import { assert, assertEquals, assertRejects, assertThrows, run, test } from "./_harness.js";

test("append, get, getAll, has, delete and set", () => {
  const fd = new FormData();
  fd.append("a", "1");
  fd.append("b", "2");
  fd.append("a", "3");
  assertEquals([fd.get("a"), fd.getAll("a"), fd.has("b"), fd.get("missing")], ["1", ["1", "3"], true, null]);
  fd.set("a", "4");
  assertEquals([...fd], [["a", "4"], ["b", "2"]]);
  fd.set("c", "5");
  fd.delete("b");
  assertEquals([...fd.keys()], ["a", "c"]);
  assertEquals([...fd.values()], ["4", "5"]);
  assertEquals(fd.getAll("nothing"), []);
});

test("names and values are USVStrings", () => {
  const fd = new FormData();
  fd.append(1, 2);
  fd.append("lone", "\ud800");
  assertEquals(fd.get("1"), "2");
  assertEquals(fd.get("lone"), "\ufffd");
});

test("Blob values become Files named 'blob' or the given filename", () => {
  const fd = new FormData();
  fd.append("blob", new Blob(["x"], { type: "text/plain" }));
  fd.append("named", new Blob(["y"]), "y.txt");
  fd.append("file", new File(["z"], "original.txt", { lastModified: 7 }), "renamed.txt");
  const blob = fd.get("blob");
  assert(blob instanceof File);
  assertEquals([blob.name, blob.type], ["blob", "text/plain"]);
  assertEquals(fd.get("named").name, "y.txt");
  assertEquals([fd.get("file").name, fd.get("file").lastModified], ["renamed.txt", 7]);
  const file = new File(["f"], "keep.txt");
  fd.set("same", file);
  assert(fd.get("same") === file, "a File without a filename is kept as is");
});

test("argument errors", () => {
  const fd = new FormData();
  assertThrows(() => fd.append("a"), TypeError);
  assertThrows(() => fd.append("a", "not a blob", "name.txt"), TypeError);
  assertThrows(() => fd.get(), TypeError);
  assertThrows(() => new FormData({}), TypeError);
  assertThrows(() => fd.forEach("x"), TypeError);
});

test("iteration is live and forEach passes (value, name, formData)", () => {
  const fd = new FormData();
  fd.append("a", "1");
  const it = fd.entries();
  fd.append("b", "2");
  assertEquals([it.next().value, it.next().value, it.next().done], [["a", "1"], ["b", "2"], true]);
  const seen = [];
  fd.forEach(function (value, name, self) {
    seen.push([value, name, self === fd, this.tag]);
  }, { tag: "t" });
  assertEquals(seen, [["1", "a", true, "t"], ["2", "b", true, "t"]]);
  assertEquals(Object.prototype.toString.call(fd.entries()), "[object FormData Iterator]");
});

test("a FormData body is multipart/form-data with a boundary and round-trips", async () => {
  const fd = new FormData();
  fd.append("field", "line1\nline2");
  fd.append('we"ird\nname', "value");
  fd.append("file", new File(["file bytes \u00e9"], 'a"b.txt', { type: "text/plain" }));
  fd.append("bin", new Blob([new Uint8Array([0, 255])]));
  const request = new Request("https://e.com", { method: "POST", body: fd });
  const type = request.headers.get("content-type");
  assert(/^multipart\/form-data; boundary=.+$/.test(type), type);
  const text = await request.clone().text();
  assert(text.includes('Content-Disposition: form-data; name="field"\r\n\r\nline1\r\nline2\r\n'), "CRLF");
  assert(text.includes('name="we%22ird%0D%0Aname"'), "escaped name");
  assert(text.includes('filename="a%22b.txt"\r\nContent-Type: text/plain'), "file part");
  assert(text.includes('filename="blob"\r\nContent-Type: application/octet-stream'), "blob part");
  const parsed = await request.formData();
  assertEquals(parsed.get("field"), "line1\r\nline2");
  assertEquals(parsed.get('we"ird\r\nname'), "value");
  const file = parsed.get("file");
  assert(file instanceof File);
  assertEquals([file.name, file.type, await file.text()], ['a"b.txt', "text/plain", "file bytes \u00e9"]);
  assertEquals([...new Uint8Array(await parsed.get("bin").arrayBuffer())], [0, 255]);
});

test("formData() parses a hand-written multipart body", async () => {
  const body =
    "preamble\r\n" +
    "--XyZ\r\n" +
    'Content-Disposition: form-data; name="a"\r\n\r\n' +
    "first\r\n" +
    "--XyZ\r\n" +
    'content-disposition: form-data; name="up"; filename="x.bin"\r\n\r\n' +
    "raw\r\n" +
    "--XyZ--\r\n";
  const response = new Response(body, { headers: { "content-type": 'multipart/form-data; boundary="XyZ"' } });
  const fd = await response.formData();
  assertEquals(fd.get("a"), "first");
  const file = fd.get("up");
  assertEquals([file.name, file.type, await file.text()], ["x.bin", "text/plain", "raw"]);
});

test("formData() parses application/x-www-form-urlencoded", async () => {
  const fd = await new Response("a=1&b=two+words&a=%C3%A9", {
    headers: { "content-type": "application/x-www-form-urlencoded;charset=UTF-8" },
  }).formData();
  assertEquals(fd.getAll("a"), ["1", "\u00e9"]);
  assertEquals(fd.get("b"), "two words");
  const fromParams = await new Request("https://e.com", { method: "POST", body: new URLSearchParams("x=y") }).formData();
  assertEquals(fromParams.get("x"), "y");
});

test("formData() rejects other types and malformed multipart bodies", async () => {
  await assertRejects(() => new Response("x").formData(), TypeError);
  await assertRejects(() => new Response("x", { headers: { "content-type": "multipart/form-data" } }).formData(), TypeError);
  await assertRejects(() => new Response("--b\r\nno headers end", {
    headers: { "content-type": "multipart/form-data; boundary=b" },
  }).formData(), TypeError);
  await assertRejects(() => new Response('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nunterminated', {
    headers: { "content-type": "multipart/form-data; boundary=b" },
  }).formData(), TypeError);
  await assertRejects(() => new Response("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--", {
    headers: { "content-type": "multipart/form-data; boundary=b" },
  }).formData(), TypeError);
});

test("an empty FormData is a valid empty multipart body", async () => {
  const response = new Response(new FormData());
  const fd = await response.formData();
  assertEquals([...fd], []);
});

export default { fetch: run };
