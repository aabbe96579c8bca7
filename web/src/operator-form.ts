/**
 * The frame an operator's change of one account shares (its fees, its limits): a form that shows
 * what the API last sent, refuses a field before sending, asks for a reason, saves with one
 * request, and after a conflict reads again for the operator to check.
 */
import { ApiError } from './api';
import { h, reasonOf, refuseField, say, setFormBusy, uid } from './dom';
import { messageWithDetail, type Action } from './messages';

export interface OperatorFormHost {
  accountId: string;
  currency: string;
  sessionEnded(error: unknown): boolean;
}

/** What one kind of change brings to the frame. */
export interface OperatorChange<View, Body> {
  /** `fees` or `limits`: its headings, names and messages. */
  action: Extract<Action, 'fees' | 'limits'>;
  title: string;
  hint: string;
  /** The reason's label, and how a missing one is named. */
  reasonLabel: string;
  reasonWhat: string;
  /** Its inputs, laid out; and all of them, to disable while saving. */
  content: HTMLElement[];
  inputs: HTMLInputElement[];
  read(): Promise<View>;
  /** The body as typed, or null with the first bad field refused through `refuse`. */
  parse(refuse: (input: HTMLInputElement, message: string) => null): Body | null;
  save(body: Body & { reason: string }): Promise<View>;
  /** Fills the inputs from what the API sent, and answers the line saying the last change. */
  show(view: View): string;
  saved(view: View): string;
}

export class OperatorForm<View, Body> {
  readonly element: HTMLFormElement;
  private readonly reasonInput: HTMLInputElement;
  private readonly button: HTMLButtonElement;
  private readonly changed: HTMLElement;
  private readonly alert = h('div', { class: 'message error', role: 'alert' });
  private readonly status = h('div', { class: 'message success', role: 'status' });
  private saving = false;

  constructor(
    private readonly host: OperatorFormHost,
    private readonly change: OperatorChange<View, Body>,
    hintId: string,
    private readonly onSaved: (view: View) => void = () => undefined,
  ) {
    const { action } = change;
    const headingId = uid(`${action}-heading`);
    const reasonId = uid(`${action}-reason`);
    this.reasonInput = h('input', { id: reasonId, name: `${action}-reason`, maxlength: '500' });
    this.button = h('button', { type: 'submit', class: 'primary' }, `Save ${action}`);
    this.changed = h('p', {
      class: 'hint',
      'aria-live': 'polite',
      'data-testid': `${action}-changed`,
    });
    this.element = h(
      'form',
      { class: `movement ${action}-form`, novalidate: true, 'aria-labelledby': headingId },
      h('h3', { id: headingId }, change.title),
      h('p', { class: 'hint', id: hintId }, change.hint),
      ...change.content,
      h(
        'div',
        { class: 'field' },
        h('label', { for: reasonId }, change.reasonLabel),
        this.reasonInput,
      ),
      h('div', { class: 'actions' }, this.button),
      this.alert,
      this.status,
      this.changed,
    );
    this.element.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.save();
    });
  }

  /** Reads what the account has now and shows it. */
  async load(): Promise<void> {
    try {
      this.show(await this.change.read());
    } catch (error) {
      if (this.host.sessionEnded(error)) return;
      say(
        this.alert,
        `${messageWithDetail(error, this.change.action)} The ${this.change.action} could not be read.`,
      );
    }
  }

  private async save(): Promise<void> {
    if (this.saving) return;
    say(this.alert, '');
    say(this.status, '');
    const body = this.change.parse((input, message) => {
      refuseField(this.alert, input, message);
      return null;
    });
    if (body === null) return;
    const reason = reasonOf(this.reasonInput, this.alert, this.change.reasonWhat);
    if (reason === null) return;
    this.setSaving(true);
    try {
      const view = await this.change.save({ ...body, reason });
      this.show(view);
      this.onSaved(view);
      this.reasonInput.value = '';
      say(this.status, this.change.saved(view));
    } catch (error) {
      if (this.host.sessionEnded(error)) return;
      // Someone else's change came first: show theirs, for the operator to check and save again.
      if (error instanceof ApiError && error.code === 'TRANSACTION_CONFLICT') await this.load();
      say(this.alert, messageWithDetail(error, this.change.action));
    } finally {
      this.setSaving(false);
    }
  }

  private show(view: View): void {
    this.changed.textContent = this.change.show(view);
  }

  private setSaving(on: boolean): void {
    this.saving = on;
    setFormBusy(this.element, this.button, [...this.change.inputs, this.reasonInput], on);
  }
}
