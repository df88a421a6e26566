/** How many demo notes the page keeps; older ones fall off. */
export const MAX_NOTES = 5;

export interface Note {
  text: string;
  /** When it was added, from the stand-in's clock (ms). */
  at: number;
}

/** What the demo says above the channel: one banner and a few notes, newest first. */
export class Board {
  private bannerText: string | null = null;
  private readonly noteList: Note[] = [];

  constructor(private readonly clock: () => number) {}

  get banner(): string | null {
    return this.bannerText;
  }

  get notes(): Note[] {
    return this.noteList.map((n) => ({ ...n }));
  }

  setBanner(text: string | null): void {
    this.bannerText = text === null || text.trim() === '' ? null : text;
  }

  addNote(text: string): void {
    this.noteList.unshift({ text, at: this.clock() });
    this.noteList.splice(MAX_NOTES);
  }
}
