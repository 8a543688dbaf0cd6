// js/shapes/30_request_shapes.js
//
// Keeps the shapes of the objects the layer makes for every request. A chunk
// loaded a single time, by an isolate that has served 16 requests
// (99_internal.js).
//
// QuickJS gives each object a shape: its prototype and its properties' names
// and flags, in order. Objects with the same properties share one, found in
// the runtime's table of live shapes: adding a property to an object looks
// there for the shape with that one more property, and only when none is
// alive makes one (a copy, then grown and rehashed as it fills). A shape lives
// as long as an object has it. Every object a request makes (the Request, the
// Response, the handler's second and third arguments) dies with the request,
// and their shapes with them, so the next request made each shape again, one
// property at a time. (The layer's records are arrays, whose elements are not
// properties of a shape.)
//
// An object of each shape these objects go through, from their first
// property to their last, keeps them alive: the next requests find every shape
// in the table. A hello-world request then runs about 1.1k fewer instructions
// (callgrind, 1.4%), for about 1.7 KiB of the isolate.

// What makes a field of an object literal: a data property, writable,
// enumerable and configurable.
const literalField = {
  __proto__: null,
  value: undefined,
  writable: true,
  enumerable: true,
  configurable: true,
};

// An object of each shape `object` went through as its own properties were
// added in order: with its first property, its first two, ..., all of them
// (with values undefined, so that they keep nothing else alive).
function keepShapesOf(keepers, object) {
  const keys = ReflectOwnKeys(object);
  const proto = ObjectGetPrototypeOf(object);
  for (let count = 1; count <= keys.length; count++) {
    const keeper = ObjectCreate(proto);
    for (let i = 0; i < count; i++) ObjectDefineProperty(keeper, keys[i], literalField);
    keepers[keepers.length] = keeper;
  }
}

// The objects that keep the shapes of a request's objects, for the core to
// hold for the isolate's life, in an array without a prototype (so that
// storing them runs no setter a tenant put on an index): `serve` when the
// function answers through a serve handler, whose second argument differs.
// Each object is made here as a request makes it (an instance of a class with
// one private field has the shape every instance has, and an object with the
// class's prototype and nothing else the shape an instance starts from).
function keepRequestShapes(serve) {
  const keepers = ObjectSetPrototypeOf([], null);
  const ctx = newRequestContext(0);
  const Request = requestClass();
  keepers[keepers.length] = ObjectCreate(Request.prototype);
  keepers[keepers.length] = new Request(kInternal, null);
  const Response = responseClass();
  keepers[keepers.length] = ObjectCreate(Response.prototype);
  keepers[keepers.length] = new Response(kInternal, null);
  if (serve) {
    const ServeHandlerInfo = serveHandlerInfoClass();
    keepers[keepers.length] = ObjectCreate(ServeHandlerInfo.prototype);
    keepers[keepers.length] = new ServeHandlerInfo(ctx, null);
    // info.remoteAddr, as the core makes it.
    keepShapesOf(keepers, { transport: "tcp", hostname: "", port: 0 });
  } else {
    const ExecutionContext = executionContextClass();
    keepers[keepers.length] = ObjectCreate(ExecutionContext.prototype);
    keepers[keepers.length] = new ExecutionContext(kInternal, undefined);
  }
  return keepers;
}
