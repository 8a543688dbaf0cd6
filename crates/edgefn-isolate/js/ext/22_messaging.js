// 22_messaging.js
//
// MessageChannel, MessagePort and MessageEvent (HTML §9.4 channel
// messaging, §9.2 MessageEvent), within one isolate. A message is
// structured-serialized when posted and deserialized when its task runs;
// each message is its own task (an internal timer), so microtasks run
// between two deliveries. A port's message queue starts disabled:
// start(), or setting onmessage, enables it.
//
// Not implemented: the `close` event a port gets when its peer closes.

let isMessagePort = (value) => false;

// Created on first use.
const messagingOps = once(() => {
  const {
    dataCloneError,
    structuredDeserializeWithTransfer,
    structuredSerializeWithTransfer,
    transferListFrom,
  } = structuredCloneOps();

  // HTML §9.4.4 a port's state. `detached` is set by close() and when the
  // port is transferred (then `movedTo` is the port that took over).
  function newMessagePortState() {
    return {
      entangled: null,
      enabled: false,
      detached: false,
      movedTo: null,
      pending: [], // serialized messages waiting for the queue to be enabled
      wrapper: undefined,
    };
  }

  // Port message tasks of every port, in posting order: { port, message }
  // where message is { serialized, ports }.
  let portMessageTasks = null;
  let portMessageTimerArmed = false;

  function queuePortMessageTask(port, message) {
    if (portMessageTasks === null) portMessageTasks = listQueueNew();
    listQueuePush(portMessageTasks, { port, message });
    armPortMessageTimer();
  }

  function armPortMessageTimer() {
    if (portMessageTimerArmed || listQueueSize(portMessageTasks) === 0) return;
    portMessageTimerArmed = true;
    startInternalTimer(runPortMessageTask, 0);
  }

  // One task: deliver the oldest message.
  function runPortMessageTask() {
    portMessageTimerArmed = false;
    const task = listQueueShift(portMessageTasks);
    armPortMessageTimer();
    let port = task.port;
    while (port.movedTo !== null) port = port.movedTo;
    if (port.detached) return;
    if (!port.enabled) {
      port.pending[port.pending.length] = task.message;
      return;
    }
    deliverPortMessage(port, task.message);
  }

  // HTML §9.4.4 "message port post message steps", the task part.
  function deliverPortMessage(port, message) {
    const target = messagePortWrapper(port);
    const MessageEvent = messageEventClass();
    let data;
    try {
      data = structuredDeserializeWithTransfer(message.serialized);
    } catch {
      fireEvent(target, createTrustedEvent(MessageEvent, "messageerror", false));
      return;
    }
    const fields = { __proto__: null };
    fields.data = data;
    fields.ports = message.ports;
    fireEvent(target, createTrustedEvent(MessageEvent, "message", false, fields));
  }

  // HTML §9.4.4 start(): enables the port message queue.
  function messagePortStart(port) {
    if (port.enabled || port.detached) return;
    port.enabled = true;
    const pending = port.pending;
    port.pending = [];
    for (let i = 0; i < pending.length; i++) queuePortMessageTask(port, pending[i]);
  }

  // HTML §9.4.1 "disentangle"
  function messagePortDisentangle(port) {
    const other = port.entangled;
    if (other === null) return;
    port.entangled = null;
    other.entangled = null;
  }

  // HTML §9.4.4 "message port post message steps": serialization errors are
  // thrown to the caller; a message to a closed or transferred peer is
  // dropped.
  function messagePortPostMessage(port, message, transfer) {
    const target = port.entangled;
    let doomed = false;
    for (let i = 0; i < transfer.length; i++) {
      const state = messagePortStateOrUndefined(transfer[i]);
      if (state === port) {
        throw dataCloneError("a MessagePort cannot be transferred through itself");
      }
      if (state !== undefined && state === target) doomed = true;
    }
    const serialized = structuredSerializeWithTransfer(message, transfer);
    if (target === null || doomed) return;
    const ports = [];
    for (let i = 0; i < transfer.length; i++) {
      if (isMessagePort(serialized.transferred[i])) ports[ports.length] = serialized.transferred[i];
    }
    queuePortMessageTask(target, { serialized: serialized.records, ports: ObjectFreeze(ports) });
  }

  // HTML §9.4.4 the transfer steps (and the transfer-receiving steps, as both
  // ends are here): a new MessagePort takes over the queue and the
  // entanglement; the old one is detached.
  function transferMessagePort(wrapper) {
    const port = messagePortStateOf(wrapper);
    const moved = newMessagePortState();
    moved.pending = port.pending;
    port.pending = [];
    port.detached = true;
    port.movedTo = moved;
    const other = port.entangled;
    if (other !== null) {
      port.entangled = null;
      moved.entangled = other;
      other.entangled = moved;
    }
    return messagePortWrapper(moved);
  }

  let messagePortStateOrUndefined = (value) => undefined;

  function messagePortStateOf(value) {
    const port = messagePortStateOrUndefined(value);
    if (port === undefined) throw new TypeErrorCtor("the value is not a MessagePort");
    return port;
  }

  function messagePortIsDetached(wrapper) {
    return messagePortStateOf(wrapper).detached;
  }

  function messagePortWrapper(port) {
    if (port.wrapper === undefined) {
      const { MessagePort } = messagingClasses();
      new MessagePort(kInternal, port);
    }
    return port.wrapper;
  }

  // postMessage(message, transfer) / postMessage(message, options): Web IDL
  // overload resolution picks the sequence for an iterable object.
  function postMessageTransferList(arg, context) {
    if (isObjectLike(arg) && arg[SymbolIterator] !== undefined) {
      const list = toSequence(arg, context);
      for (let i = 0; i < list.length; i++) {
        if (!isObjectLike(list[i])) {
          throw new TypeErrorCtor(`${context}: the transfer list can only contain objects`);
        }
      }
      return list;
    }
    return transferListFrom(arg, context);
  }

  // MessageEventInit / initMessageEvent ports: sequence<MessagePort>, frozen.
  function messageEventPorts(value, context) {
    if (value === undefined) return ObjectFreeze([]);
    const list = toSequence(value, context);
    for (let i = 0; i < list.length; i++) {
      if (!isMessagePort(list[i])) {
        throw new TypeErrorCtor(`${context}: ports can only contain MessagePort objects`);
      }
    }
    return ObjectFreeze(list);
  }

  // MessageEventSource? (only MessagePort exists here)
  function messageEventSource(value, context) {
    if (value === undefined || value === null) return null;
    if (!isMessagePort(value)) {
      throw new TypeErrorCtor(`${context}: source is not a MessagePort`);
    }
    return value;
  }

  // HTML §9.2 MessageEvent
  const messageEventClass = once(() => {
    const Event = eventClass();
    class MessageEvent extends Event {
      #data = null;
      #origin = "";
      #lastEventId = "";
      #source = null;
      #ports;

      constructor(type, init = undefined) {
        requireArguments(arguments.length, 1, "MessageEvent");
        super(type, init);
        if (type === kInternal) {
          this.#data = init.data === undefined ? null : init.data;
          this.#ports = init.ports === undefined ? ObjectFreeze([]) : init.ports;
          return;
        }
        const dict = toDictionary(init, "MessageEvent");
        if (dict === undefined) {
          this.#ports = ObjectFreeze([]);
          return;
        }
        // MessageEventInit members in Web IDL order.
        const data = dict.data;
        const lastEventId = dict.lastEventId;
        const origin = dict.origin;
        const ports = dict.ports;
        const source = dict.source;
        if (data !== undefined) this.#data = data;
        if (lastEventId !== undefined) this.#lastEventId = toDOMString(lastEventId);
        if (origin !== undefined) this.#origin = toUSVString(origin);
        this.#ports = messageEventPorts(ports, "MessageEvent");
        this.#source = messageEventSource(source, "MessageEvent");
      }

      get data() { return this.#data; }
      get origin() { return this.#origin; }
      get lastEventId() { return this.#lastEventId; }
      get source() { return this.#source; }
      get ports() { return this.#ports; }

      // HTML §9.2 initMessageEvent (legacy)
      initMessageEvent(
        type,
        bubbles = false,
        cancelable = false,
        data = null,
        origin = "",
        lastEventId = "",
        source = null,
        ports = undefined,
      ) {
        requireArguments(arguments.length, 1, "MessageEvent.initMessageEvent");
        this.#data; // brand check
        if (internalsOf(this).dispatching) return;
        this.initEvent(type, bubbles, cancelable);
        this.#data = data;
        this.#origin = toUSVString(origin);
        this.#lastEventId = toDOMString(lastEventId);
        this.#source = messageEventSource(source, "MessageEvent.initMessageEvent");
        this.#ports = messageEventPorts(ports, "MessageEvent.initMessageEvent");
      }
    }
    configureInterface(MessageEvent);
    return MessageEvent;
  });

  const messagingClasses = once(() => {
    const EventTarget = eventTargetClass();

    class MessagePort extends EventTarget {
      #p;

      constructor(token = undefined, port = undefined) {
        if (token !== kInternal) throw new TypeErrorCtor("Illegal constructor");
        super();
        this.#p = port;
        port.wrapper = this;
      }

      // HTML §9.4.4 postMessage(message, transfer) / postMessage(message, options)
      postMessage(message, transferOrOptions = undefined) {
        requireArguments(arguments.length, 1, "MessagePort.postMessage");
        const port = this.#p;
        const transfer = postMessageTransferList(transferOrOptions, "MessagePort.postMessage");
        messagePortPostMessage(port, message, transfer);
      }

      // HTML §9.4.4 start()
      start() {
        messagePortStart(this.#p);
      }

      // HTML §9.4.4 close()
      close() {
        const port = this.#p;
        port.detached = true;
        port.pending = [];
        messagePortDisentangle(port);
      }

      static {
        messagePortStateOrUndefined = (value) =>
          isObjectLike(value) && #p in value ? value.#p : undefined;
        isMessagePort = (value) => isObjectLike(value) && #p in value;
      }
    }
    // Setting onmessage enables the port message queue (HTML §9.4.4).
    defineEventHandler(MessagePort.prototype, "message", (target) => {
      messagePortStart(messagePortStateOf(target));
    });
    defineEventHandler(MessagePort.prototype, "messageerror");
    configureInterface(MessagePort);

    class MessageChannel {
      #port1;
      #port2;

      // HTML §9.4.3 constructor(): two entangled ports.
      constructor() {
        const port1 = newMessagePortState();
        const port2 = newMessagePortState();
        port1.entangled = port2;
        port2.entangled = port1;
        this.#port1 = messagePortWrapper(port1);
        this.#port2 = messagePortWrapper(port2);
      }

      get port1() {
        return this.#port1;
      }

      get port2() {
        return this.#port2;
      }
    }
    configureInterface(MessageChannel);
    registerInspectHook(MessageChannel, (channel) => ({
      port1: channel.port1,
      port2: channel.port2,
    }));

    return { MessageChannel, MessagePort };
  });

  return {
    transferMessagePort,
    messagePortIsDetached,
    messagingClasses,
    messageEventClass,
  };
});
