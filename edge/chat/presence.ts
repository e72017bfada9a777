import type { Person } from "../../contract/chat.ts";

/** Who holds which sockets of a room, as the room needs it at every join and leave. */
export interface Present {
  name: string;
  verified: boolean;
  /** The verified subject or the anonymous session: sockets of one session share a name. */
  session: string;
}

const personKey = (p: Person) => `${p.verified}:${p.name}`;

/**
 * The room's people, kept in memory and changed one socket at a time, so that a join or a leave
 * costs the same in a room of ten as in a room of ten thousand: nothing here walks every socket.
 * The room fills it once when it wakes (from the sockets' attachments) and then keeps it in step.
 * Changes since the last `takeChanges` are kept as the net effect, so a person who leaves and
 * comes back within one interval is no news at all.
 */
export class Presence {
  private readonly sockets = new Map<WebSocket, Present>();
  /** Open sockets per person. */
  private readonly people = new Map<string, { person: Person; sockets: number }>();
  /** Lower-cased name → session → sockets, for names unique regardless of case. */
  private readonly names = new Map<string, Map<string, number>>();
  /** Net change per person since it was last taken: +1 arrived, -1 left. */
  private changes = new Map<string, { person: Person; change: 1 | -1 }>();

  get count(): number {
    return this.people.size;
  }

  has(ws: WebSocket): boolean {
    return this.sockets.has(ws);
  }

  /** Adds a socket; true when it is the person's first. */
  add(ws: WebSocket, member: Present): boolean {
    if (this.sockets.has(ws)) return false;
    this.sockets.set(ws, member);
    const person = { name: member.name, verified: member.verified };
    const key = personKey(person);
    const lower = member.name.toLowerCase();
    const sessions = this.names.get(lower) ?? new Map<string, number>();
    sessions.set(member.session, (sessions.get(member.session) ?? 0) + 1);
    this.names.set(lower, sessions);
    const entry = this.people.get(key);
    if (entry) {
      entry.sockets += 1;
      return false;
    }
    this.people.set(key, { person, sockets: 1 });
    this.note(key, person, 1);
    return true;
  }

  /** Removes a socket (again is harmless); the person when it was their last. */
  remove(ws: WebSocket): Person | undefined {
    const member = this.sockets.get(ws);
    if (!member) return undefined;
    this.sockets.delete(ws);
    const lower = member.name.toLowerCase();
    const sessions = this.names.get(lower)!;
    const left = sessions.get(member.session)! - 1;
    if (left > 0) sessions.set(member.session, left);
    else sessions.delete(member.session);
    if (sessions.size === 0) this.names.delete(lower);
    const person = { name: member.name, verified: member.verified };
    const key = personKey(person);
    const entry = this.people.get(key)!;
    entry.sockets -= 1;
    if (entry.sockets > 0) return undefined;
    this.people.delete(key);
    this.note(key, person, -1);
    return person;
  }

  /** Whether someone of another session holds `name`, in any case. */
  isTaken(name: string, session: string): boolean {
    const sessions = this.names.get(name.toLowerCase());
    if (!sessions) return false;
    return sessions.size > 1 || !sessions.has(session);
  }

  /** Everyone, one entry per name (and verification), sorted by name. */
  list(): Person[] {
    return [...this.people.values()].map((entry) => entry.person).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The arrivals and departures since the last call, net. */
  takeChanges(): { joined: Person[]; left: Person[] } {
    const joined: Person[] = [];
    const left: Person[] = [];
    for (const { person, change } of this.changes.values()) (change > 0 ? joined : left).push(person);
    this.changes = new Map();
    return { joined, left };
  }

  get changed(): boolean {
    return this.changes.size > 0;
  }

  private note(key: string, person: Person, change: 1 | -1): void {
    const earlier = this.changes.get(key);
    // A leave and a join of the same person cancel out.
    if (earlier && earlier.change !== change) this.changes.delete(key);
    else this.changes.set(key, { person, change });
  }
}
