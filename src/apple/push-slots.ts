/**
 * @module apple/push-slots
 * How the messages of one `passhook-apple` batch share the invocation's 6 outbound connections
 * (lib/limit.ts). One shared first-come queue let the first pass with many devices take every slot:
 * when its project's APNs host hangs, every other project's pushes in the batch wait behind it. Here
 * each message may hold at most `floor(6 / unfinished messages)` slots (at least one), the cap grows
 * as messages finish, and a freed slot goes to the next message in turn that has a send waiting
 * (round robin). A hanging host then holds only its own message's share.
 *
 * Pure bookkeeping: no clock, no I/O.
 */
import type { Limiter } from "../lib/limit";

export interface MessageSlots {
  /** Runs one send of this message when a fair slot is free. */
  limit: Limiter;
  /** The message has no more sends: its share goes to the others. */
  done(): void;
}

interface Member {
  active: number;
  waiting: (() => void)[];
  finished: boolean;
}

/** Slots for a batch of `messages` messages, `total` at once across all of them. */
export function createPushSlots(total: number, messages: number): { forMessage(): MessageSlots } {
  const members: Member[] = [];
  let unfinished = Math.max(1, messages);
  let active = 0;
  let turn = 0;

  const cap = () => Math.max(1, Math.floor(total / Math.max(1, unfinished)));

  /** Hands free slots out, one message at a time in turn, while any message may take one. */
  function dispatch(): void {
    while (active < total) {
      let granted = false;
      for (let i = 0; i < members.length; i++) {
        const m = members[(turn + i) % members.length];
        if (!m.waiting.length || m.active >= cap()) continue;
        turn = (turn + i + 1) % members.length;
        m.active++;
        active++;
        m.waiting.shift()!();
        granted = true;
        break;
      }
      if (!granted) return;
    }
  }

  return {
    forMessage(): MessageSlots {
      const m: Member = { active: 0, waiting: [], finished: false };
      members.push(m);
      return {
        limit: async <T>(task: () => Promise<T>): Promise<T> => {
          await new Promise<void>((resolve) => {
            m.waiting.push(resolve);
            dispatch();
          });
          try {
            return await task();
          } finally {
            m.active--;
            active--;
            dispatch();
          }
        },
        done() {
          if (m.finished) return;
          m.finished = true;
          unfinished = Math.max(1, unfinished - 1);
          dispatch();
        },
      };
    },
  };
}
