/**
 * Progress on stderr: one rewritten line on a terminal, a line per step (and a heartbeat every
 * 15 s) otherwise, so CI logs stay short and a terminal shows the counts moving.
 */
export class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private readonly started = Date.now();
  private section = '';
  private lastDraw = 0;
  private lastBeat = 0;

  begin(section: string): void {
    this.section = section;
    this.clear();
    process.stderr.write(`[${this.elapsed()}] ${section}\n`);
  }

  /** A counted step of the current section; call tick() per operation and done() at the end. */
  step(label: string, total: number): { tick(count?: number): void; done(): void } {
    let count = 0;
    const stepStarted = Date.now();
    this.lastBeat = Date.now();
    const draw = (force: boolean): void => {
      const now = Date.now();
      if (this.tty) {
        if (!force && now - this.lastDraw < 100) return;
        this.lastDraw = now;
        process.stderr.write(`\r\x1b[K  ${this.section} · ${label} ${count}/${total}`);
      } else if (!force && now - this.lastBeat >= 15_000) {
        this.lastBeat = now;
        process.stderr.write(`  … ${label} ${count}/${total}\n`);
      }
    };
    draw(true);
    return {
      tick: (n = 1) => {
        count += n;
        draw(false);
      },
      done: () => {
        this.clear();
        const seconds = ((Date.now() - stepStarted) / 1000).toFixed(1);
        process.stderr.write(`  ${label}: ${count}/${total} in ${seconds} s\n`);
      },
    };
  }

  note(text: string): void {
    this.clear();
    process.stderr.write(`  ${text}\n`);
  }

  elapsed(): string {
    return `${((Date.now() - this.started) / 1000).toFixed(0).padStart(3)} s`;
  }

  private clear(): void {
    if (this.tty) process.stderr.write('\r\x1b[K');
  }
}
