/**
 * CSV downloads: the export is read through the Api (the bearer token is a header, so a plain
 * link could not carry it) and handed to the browser as a file: a Blob, an object URL and a
 * temporary `<a download>`. A refusal is said in the card's alert, and nothing is saved.
 */
import { h, say } from './dom';
import { messageFor } from './messages';

/** Hands a file to the browser's downloads. */
export type SaveFile = (blob: Blob, filename: string) => void;

export type DownloadOutcome = { ok: true; filename: string } | { ok: false; error: unknown };

/** Reads the CSV and saves it under `filename`; never throws: the outcome says what happened. */
export async function downloadCsv(
  read: () => Promise<string>,
  filename: string,
  save: SaveFile,
): Promise<DownloadOutcome> {
  try {
    const text = await read();
    save(new Blob([text], { type: 'text/csv;charset=utf-8' }), filename);
    return { ok: true, filename };
  } catch (error) {
    return { ok: false, error };
  }
}

/** What the page says after a download: the file's name, or why there is none. */
export function downloadMessage(outcome: DownloadOutcome): string {
  return outcome.ok
    ? `Downloaded ${outcome.filename}.`
    : `${messageFor(outcome.error, 'read')} Nothing was downloaded.`;
}

/** The browser's way: a temporary link to the Blob, clicked, then let go. */
export const saveFile: SaveFile = (blob, filename) => {
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // Some browsers start reading the Blob after the click returns: let go of it a little later.
  window.setTimeout(() => URL.revokeObjectURL(url), 30_000);
};

export interface CsvButtonOptions {
  /** The button's name, which says what it downloads ("Download statement (CSV)"). */
  label: string;
  filename(): string;
  read(): Promise<string>;
  alert: HTMLElement;
  status: HTMLElement;
  /** True when the error ended the session (a 401): nothing more to say. */
  sessionEnded(error: unknown): boolean;
  save?: SaveFile;
}

/** A button that downloads a CSV, busy while it reads. */
export class CsvButton {
  readonly element: HTMLButtonElement;

  constructor(private readonly options: CsvButtonOptions) {
    this.element = h('button', { type: 'button', class: 'secondary' }, options.label);
    this.element.addEventListener('click', () => void this.download());
  }

  private async download(): Promise<void> {
    const { alert, status } = this.options;
    say(alert, '');
    say(status, '');
    this.element.disabled = true;
    this.element.classList.add('working');
    const outcome = await downloadCsv(
      () => this.options.read(),
      this.options.filename(),
      this.options.save ?? saveFile,
    );
    this.element.disabled = false;
    this.element.classList.remove('working');
    if (!outcome.ok && this.options.sessionEnded(outcome.error)) return;
    say(outcome.ok ? status : alert, downloadMessage(outcome));
  }
}
