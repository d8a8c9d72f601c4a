/**
 * Server-sent events as the CLI reads them (the `logs --follow` stream):
 * a pure parser over the text received so far.
 */

export interface ServerEvent {
  id: string | null;
  event: string;
  data: string;
}

/** The complete events in `text`, and what is left of an event still arriving. */
export function parseEvents(text: string): { events: ServerEvent[]; rest: string } {
  const normalized = text.replace(/\r\n?/g, "\n");
  const blocks = normalized.split("\n\n");
  const rest = blocks.pop() ?? "";
  const events: ServerEvent[] = [];
  for (const block of blocks) {
    let id: string | null = null;
    let event = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line === "" || line.startsWith(":")) {
        continue;
      }
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") {
        id = value;
      } else if (field === "event") {
        event = value;
      } else if (field === "data") {
        data.push(value);
      }
    }
    if (data.length > 0) {
      events.push({ id, event, data: data.join("\n") });
    }
  }
  return { events, rest };
}
