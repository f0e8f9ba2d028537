// The engines against the worker protocol's types (web/src/messages.d.ts), checked by tsc in
// tests/js/engine-contract.test.mjs. Each `const` below only type-checks while the contract
// holds; when it breaks, tsc names the offending operation in the error.
import type { LocalEngine, OPERATIONS } from '../../../web/src/engine.js';
import type { WorkerEngine } from '../../../web/src/worker-client.js';
import type { Engine, LocalOperations, OperationType, Operations } from '../../../web/src/messages.js';

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
/** 'ok' when `Bad` is empty, else `Bad` itself, so the error message lists it. */
type NoneOf<Bad> = [Bad] extends [never] ? 'ok' : Bad;

/** LocalEngine's operation methods: its methods but `call`. */
type MethodNames = Exclude<{ [K in keyof LocalEngine]: LocalEngine[K] extends (...args: never[]) => unknown ? K : never }[keyof LocalEngine], 'call'>;
type LocalOperationType = keyof LocalOperations;
type AnyOperations = Operations & LocalOperations;

/** Every operation in messages.d.ts has its LocalEngine method. */
export const operationsWithoutMethod: NoneOf<Exclude<OperationType | LocalOperationType, MethodNames>> = 'ok';
/** Every LocalEngine method is an operation of messages.d.ts. */
export const methodsWithoutMessageType: NoneOf<Exclude<MethodNames, OperationType | LocalOperationType>> = 'ok';
/** engine.js's OPERATIONS, which `call` and the worker accept, lists exactly the worker operations. */
export const operationsListedButUntyped: NoneOf<Exclude<(typeof OPERATIONS)[number], OperationType>> = 'ok';
export const operationsTypedButUnlisted: NoneOf<Exclude<OperationType, (typeof OPERATIONS)[number]>> = 'ok';

/** Each method takes its operation's `in` (then, for some, a progress callback) and returns a
 * Promise of its `out`, exactly. */
type WrongSignature = {
  [K in MethodNames & keyof AnyOperations]:
    LocalEngine[K] extends (input: infer In, onProgress?: (done: number, total: number) => void) => infer Out
      ? Equals<In, AnyOperations[K]['in']> extends true
        ? Equals<Out, Promise<AnyOperations[K]['out']>> extends true ? never : K
        : K
      : K;
}[MethodNames & keyof AnyOperations];
export const methodsWithWrongSignature: NoneOf<WrongSignature> = 'ok';

/** Both engines are what index.js calls: `call(type, in, transfer?)` typed by Operations. */
export const localIsEngine = (engine: LocalEngine): Engine => engine;
export const workerIsEngine = (engine: WorkerEngine): Engine => engine;
