// Shared data and shared queues (host contract §7): one store per host (Envoy: per process),
// partitioned by vm_id, with a global CAS counter.
import { WasmResult } from "./abi.js";

/** Where on_queue_ready is delivered: the last root context that registered the queue. */
export interface QueueReceiver {
  worker: number;
  rootContextId: number;
}

interface Queue {
  items: Uint8Array[];
  receiver: QueueReceiver;
}

/** Process-wide shared key/value store and queues. */
export class SharedStore {
  private readonly data = new Map<string, Map<string, { value: Uint8Array; cas: number }>>();
  private nextCas = 1;
  private readonly queueTokens = new Map<string, number>();
  private readonly queues = new Map<number, Queue>();
  private nextToken = 1;

  private partition(vmId: string): Map<string, { value: Uint8Array; cas: number }> {
    let p = this.data.get(vmId);
    if (!p) {
      p = new Map();
      this.data.set(vmId, p);
    }
    return p;
  }

  get(vmId: string, key: string): { value: Uint8Array; cas: number } | undefined {
    return this.data.get(vmId)?.get(key);
  }

  /** cas 0 = unconditional; otherwise must match an existing key's cas (CasMismatch). */
  set(vmId: string, key: string, value: Uint8Array, cas: number): number {
    const p = this.partition(vmId);
    const existing = p.get(key);
    if (cas !== 0 && existing && existing.cas !== cas) return WasmResult.CasMismatch;
    p.set(key, { value: value.slice(), cas: this.takeCas() });
    return WasmResult.Ok;
  }

  private takeCas(): number {
    const cas = this.nextCas;
    this.nextCas = (this.nextCas + 1) >>> 0 || 1;
    return cas;
  }

  /** Registers (or re-registers) a queue; the caller becomes its receiver. */
  registerQueue(vmId: string, name: string, receiver: QueueReceiver): number {
    const key = `${vmId}\0${name}`;
    let token = this.queueTokens.get(key);
    if (token === undefined) {
      token = this.nextToken++;
      this.queueTokens.set(key, token);
      this.queues.set(token, { items: [], receiver });
    } else {
      this.queues.get(token)!.receiver = receiver;
    }
    return token;
  }

  resolveQueue(vmId: string, name: string): number | undefined {
    return this.queueTokens.get(`${vmId}\0${name}`);
  }

  /** Appends; returns the receiver to notify, or undefined for an unknown token. */
  enqueue(token: number, value: Uint8Array): QueueReceiver | undefined {
    const q = this.queues.get(token);
    if (!q) return undefined;
    q.items.push(value.slice());
    return q.receiver;
  }

  /** NotFound for an unknown token, Empty when nothing is queued. */
  dequeue(token: number): Uint8Array | number {
    const q = this.queues.get(token);
    if (!q) return WasmResult.NotFound;
    return q.items.shift() ?? WasmResult.Empty;
  }
}
