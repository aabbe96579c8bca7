/**
 * The operator's limits form for one account: the daily limit, the limit per movement and the
 * timezone whose calendar day the daily limit counts, with the reason, saved with
 * PUT /accounts/{id}/limits. It shows the limits exactly as the API last sent them, with who
 * changed them last, when, why, and what they were before.
 */
import { ApiError, type Api, type Limits, type LimitsRequest } from './api';
import { h, reasonOf, refuseField, say, setFormBusy, uid } from './dom';
import { dateFormat } from './history';
import { isTimezone, limitsChangeText } from './limits';
import { messageWithDetail } from './messages';
import { minorToInput, parseLimit } from './money';

export interface LimitsHost {
  api: Api;
  accountId: string;
  currency: string;
  /** Limits the API just answered with: the account's numbers show them. */
  showLimits(limits: Limits): void;
  sessionEnded(error: unknown): boolean;
}

export class LimitsForm {
  readonly element: HTMLFormElement;
  private readonly daily: HTMLInputElement;
  private readonly perMovement: HTMLInputElement;
  private readonly timezone: HTMLInputElement;
  private readonly reasonInput: HTMLInputElement;
  private readonly button: HTMLButtonElement;
  private readonly changed: HTMLElement;
  private readonly alert = h('div', { class: 'message error', role: 'alert' });
  private readonly status = h('div', { class: 'message success', role: 'status' });
  /** The limits as last read: only what the operator changed is sent. */
  private shown: Limits | null = null;
  private saving = false;

  constructor(private readonly host: LimitsHost) {
    const headingId = uid('limits-heading');
    const hintId = uid('limits-hint');
    const field = (name: string, inputmode: string): HTMLInputElement =>
      h('input', {
        id: uid(name),
        name,
        type: 'text',
        inputmode,
        autocomplete: 'off',
        spellcheck: 'false',
        'aria-describedby': hintId,
      });
    this.daily = field('daily-limit', 'decimal');
    this.perMovement = field('per-movement-limit', 'decimal');
    this.timezone = field('limits-timezone', 'text');
    this.reasonInput = h('input', {
      id: uid('limits-reason'),
      name: 'limits-reason',
      maxlength: '500',
    });
    this.button = h('button', { type: 'submit', class: 'primary' }, 'Save limits');
    this.changed = h('p', {
      class: 'hint',
      'aria-live': 'polite',
      'data-testid': 'limits-changed',
    });
    const labelled = (label: string, input: HTMLInputElement) =>
      h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
    this.element = h(
      'form',
      { class: 'movement limits-form', novalidate: true, 'aria-labelledby': headingId },
      h('h3', { id: headingId }, 'Limits'),
      h(
        'p',
        { class: 'hint', id: hintId },
        `In ${host.currency}, fees included: what may leave the account (withdrawals, payouts, transfers out) per day and per movement. The day is a calendar day in the timezone (an IANA name such as UTC or Europe/Paris).`,
      ),
      h(
        'div',
        { class: 'limits-fields' },
        labelled('Daily limit', this.daily),
        labelled('Per movement', this.perMovement),
        labelled('Timezone', this.timezone),
      ),
      labelled('Reason for the limits change', this.reasonInput),
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

  /** Reads the limits and shows them. */
  async load(): Promise<void> {
    try {
      this.show(await this.host.api.limits(this.host.accountId));
    } catch (error) {
      if (this.host.sessionEnded(error)) return;
      say(this.alert, `${messageWithDetail(error, 'limits')} The limits could not be read.`);
    }
  }

  private async save(): Promise<void> {
    if (this.saving) return;
    say(this.alert, '');
    say(this.status, '');
    const changes = this.readChanges();
    if (!changes) return;
    const reason = reasonOf(this.reasonInput, this.alert, 'limits change');
    if (reason === null) return;
    this.setSaving(true);
    try {
      const limits = await this.host.api.setLimits(this.host.accountId, { ...changes, reason });
      this.show(limits);
      this.host.showLimits(limits);
      this.reasonInput.value = '';
      say(this.status, `Limits saved: version ${limits.version}.`);
    } catch (error) {
      if (this.host.sessionEnded(error)) return;
      // Someone else's change came first: show theirs, for the operator to check and save again.
      if (error instanceof ApiError && error.code === 'TRANSACTION_CONFLICT') await this.load();
      say(this.alert, messageWithDetail(error, 'limits'));
    } finally {
      this.setSaving(false);
    }
  }

  /** The limits the operator changed, or null (and the first bad field refused, or none changed). */
  private readChanges(): Omit<LimitsRequest, 'reason'> | null {
    const daily = this.readAmount(this.daily, 'daily limit');
    if (daily === null) return null;
    const perMovement = this.readAmount(this.perMovement, 'limit per movement');
    if (perMovement === null) return null;
    const timezone = this.timezone.value.trim();
    if (!isTimezone(timezone)) {
      return this.refuse(
        this.timezone,
        timezone === ''
          ? 'Enter the timezone, for example UTC or Europe/Paris.'
          : `${timezone} is not a timezone this page knows: use an IANA name such as UTC or Europe/Paris.`,
      );
    }
    this.timezone.removeAttribute('aria-invalid');
    const shown = this.shown;
    const changes: Omit<LimitsRequest, 'reason'> = {};
    if (daily !== shown?.daily) changes.daily = daily;
    if (perMovement !== shown?.perMovement) changes.perMovement = perMovement;
    if (timezone !== shown?.timezone) changes.timezone = timezone;
    if (Object.keys(changes).length === 0) {
      return this.refuse(this.daily, 'Change at least one limit: these are the limits in force.');
    }
    return changes;
  }

  private readAmount(input: HTMLInputElement, name: string): number | null {
    if (input.value.trim() === '') return this.refuse(input, `Enter the ${name}.`);
    const parsed = parseLimit(input.value, this.host.currency);
    if (!parsed.ok) return this.refuse(input, parsed.message);
    input.removeAttribute('aria-invalid');
    // An amount the page accepts is at most 10^12: exact as a number.
    return Number(parsed.minor);
  }

  private refuse(input: HTMLInputElement, message: string): null {
    refuseField(this.alert, input, message);
    return null;
  }

  /** The limits as the API sent them: each field, and the last change. */
  private show(limits: Limits): void {
    this.shown = limits;
    this.daily.value = minorToInput(limits.daily, this.host.currency);
    this.perMovement.value = minorToInput(limits.perMovement, this.host.currency);
    this.timezone.value = limits.timezone;
    this.changed.textContent = limits.changed
      ? `Version ${limits.version}. ${limitsChangeText(limits.changed, this.host.currency, (at) => dateFormat.format(new Date(at)))}`
      : "No operator has changed this account's limits: the service's defaults apply.";
  }

  private setSaving(on: boolean): void {
    this.saving = on;
    const inputs = [this.daily, this.perMovement, this.timezone, this.reasonInput];
    setFormBusy(this.element, this.button, inputs, on);
  }
}
