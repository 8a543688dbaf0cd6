// 16_event_manager.js
//
// EventManager, only in a service isolate that has an inbox (the event
// worker): `for await (const event of new EventManager())` yields each worker
// event as an object, as in Supabase's edge-runtime event worker.

function inboxNext() {
  return new PromiseCtor((resolve, reject) => {
    const opId = registerHostOp((value, error) => {
      if (error !== undefined) reject(new ErrorCtor(error));
      else resolve(value);
    });
    try {
      host.inboxNext(opId);
    } catch (error) {
      forgetHostOp(opId);
      reject(error);
    }
  });
}

if (config.inbox === true) {
  const eventManagerClass = once(() => {
    class EventManager {
      async *[SymbolAsyncIterator]() {
        while (true) {
          const message = await inboxNext();
          if (message === null || message === undefined) return;
          yield JSONParse(message);
        }
      }
    }
    configureInterface(EventManager);
    return EventManager;
  });
  exposeLazyInterface("EventManager", eventManagerClass);
}
