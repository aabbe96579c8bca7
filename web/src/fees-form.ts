/**
 * The operator's fee form for one account: a withdrawal's and a payout's rule (flat, basis
 * points, minimum, maximum) and the reason, saved with PUT /accounts/{id}/fees. It shows the
 * schedule exactly as the API last sent it, with its version and who changed it last.
 */
import { ApiError, FEE_TYPES, type Api, type FeeRule, type FeeSchedule, type FeeType } from './api';
import { h, reasonOf, refuseField, say, setFormBusy, uid } from './dom';
import { dateFormat } from './history';
import { messageWithDetail } from './messages';
import { minorToInput, parseFee } from './money';

export interface FeesHost {
  api: Api;
  accountId: string;
  currency: string;
  sessionEnded(error: unknown): boolean;
}

const TYPE_NAMES: Record<FeeType, string> = { WITHDRAWAL: 'Withdrawal', PAYOUT: 'Payout' };
const MONEY_FIELDS = ['flat', 'min', 'max'] as const;
type Field = keyof FeeRule;
const FIELD_LABELS: Record<Field, string> = {
  flat: 'Flat',
  bps: 'Basis points',
  min: 'Minimum',
  max: 'Maximum',
};
const BPS_MAX = 10_000;

export class FeesForm {
  readonly element: HTMLFormElement;
  private readonly inputs: Record<FeeType, Record<Field, HTMLInputElement>>;
  private readonly reasonInput: HTMLInputElement;
  private readonly button: HTMLButtonElement;
  private readonly changed: HTMLElement;
  /** The form's own messages, beside its button. */
  private readonly alert = h('div', { class: 'message error', role: 'alert' });
  private readonly status = h('div', { class: 'message success', role: 'status' });
  private saving = false;

  constructor(private readonly host: FeesHost) {
    const headingId = uid('fees-heading');
    const hintId = uid('fees-hint');
    const reasonId = uid('fees-reason');
    this.inputs = {
      WITHDRAWAL: this.ruleInputs(hintId),
      PAYOUT: this.ruleInputs(hintId),
    };
    this.reasonInput = h('input', { id: reasonId, name: 'fees-reason', maxlength: '500' });
    this.button = h('button', { type: 'submit', class: 'primary' }, 'Save fees');
    this.changed = h('p', { class: 'hint', 'aria-live': 'polite', 'data-testid': 'fees-changed' });
    this.element = h(
      'form',
      { class: 'movement fees-form', novalidate: true, 'aria-labelledby': headingId },
      h('h3', { id: headingId }, 'Fees'),
      h(
        'p',
        { class: 'hint', id: hintId },
        `In ${host.currency}. A fee is flat + amount × basis points / 10,000, then at least the minimum and at most the maximum. Leave a field empty for none.`,
      ),
      ...FEE_TYPES.map((type) => this.fieldset(type)),
      h(
        'div',
        { class: 'field' },
        h('label', { for: reasonId }, 'Reason for the change'),
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

  /** Reads the schedule and shows it. */
  async load(): Promise<void> {
    try {
      this.show(await this.host.api.fees(this.host.accountId));
    } catch (error) {
      if (this.host.sessionEnded(error)) return;
      say(this.alert, `${messageWithDetail(error, 'fees')} The fees could not be read.`);
    }
  }

  private async save(): Promise<void> {
    if (this.saving) return;
    say(this.alert, '');
    say(this.status, '');
    const rules = this.readRules();
    if (!rules) return;
    const reason = reasonOf(this.reasonInput, this.alert, 'change');
    if (reason === null) return;
    this.setSaving(true);
    try {
      const schedule = await this.host.api.setFees(this.host.accountId, { ...rules, reason });
      this.show(schedule);
      this.reasonInput.value = '';
      say(this.status, `Fees saved: version ${schedule.version}.`);
    } catch (error) {
      if (this.host.sessionEnded(error)) return;
      // Someone else's change came first: show theirs, for the operator to check and save again.
      if (error instanceof ApiError && error.code === 'TRANSACTION_CONFLICT') await this.load();
      say(this.alert, messageWithDetail(error, 'fees'));
    } finally {
      this.setSaving(false);
    }
  }

  /** The rules as typed, or null (and the first bad field refused). A rule left empty is none. */
  private readRules(): Partial<Record<FeeType, FeeRule>> | null {
    const rules: Partial<Record<FeeType, FeeRule>> = {};
    for (const type of FEE_TYPES) {
      const rule = this.readRule(type);
      if (rule === null) return null;
      if (Object.keys(rule).length > 0) rules[type] = rule;
    }
    return rules;
  }

  private readRule(type: FeeType): FeeRule | null {
    const inputs = this.inputs[type];
    const rule: FeeRule = {};
    for (const field of MONEY_FIELDS) {
      const parsed = parseFee(inputs[field].value, this.host.currency);
      if (!parsed.ok) return this.refuse(inputs[field], parsed.message);
      if (parsed.minor !== null) rule[field] = Number(parsed.minor);
    }
    const bps = inputs.bps.value.trim();
    if (bps !== '') {
      if (!/^\d{1,5}$/.test(bps) || Number(bps) > BPS_MAX) {
        return this.refuse(inputs.bps, 'Basis points are a whole number from 0 to 10,000.');
      }
      rule.bps = Number(bps);
    }
    if (rule.min !== undefined && rule.max !== undefined && rule.min > rule.max) {
      return this.refuse(inputs.min, 'The minimum fee may not be above the maximum.');
    }
    for (const input of Object.values(inputs)) input.removeAttribute('aria-invalid');
    return rule;
  }

  private refuse(input: HTMLInputElement, message: string): null {
    refuseField(this.alert, input, message);
    return null;
  }

  /** The schedule as the API sent it: each field, its version and its last change. */
  private show(schedule: FeeSchedule): void {
    for (const type of FEE_TYPES) {
      const rule = schedule[type] ?? {};
      for (const field of MONEY_FIELDS) {
        const value = rule[field];
        this.inputs[type][field].value =
          value === undefined ? '' : minorToInput(value, this.host.currency);
      }
      this.inputs[type].bps.value = rule.bps === undefined ? '' : String(rule.bps);
    }
    const change = schedule.changed;
    this.changed.textContent = change
      ? `Version ${schedule.version}, changed ${dateFormat.format(new Date(change.at))} by ${change.by}: ${change.reason}`
      : 'No fees were ever set on this account.';
  }

  private fieldset(type: FeeType): HTMLElement {
    const inputs = this.inputs[type];
    return h(
      'fieldset',
      { class: 'fee-rule' },
      h('legend', {}, `${TYPE_NAMES[type]} fee`),
      ...(Object.keys(FIELD_LABELS) as Field[]).map((field) =>
        h(
          'div',
          { class: 'field' },
          h('label', { for: inputs[field].id }, FIELD_LABELS[field]),
          inputs[field],
        ),
      ),
    );
  }

  private ruleInputs(hintId: string): Record<Field, HTMLInputElement> {
    const input = (field: Field): HTMLInputElement =>
      h('input', {
        id: uid(`fee-${field}`),
        name: field,
        type: 'text',
        inputmode: field === 'bps' ? 'numeric' : 'decimal',
        autocomplete: 'off',
        spellcheck: 'false',
        'aria-describedby': hintId,
      });
    return { flat: input('flat'), bps: input('bps'), min: input('min'), max: input('max') };
  }

  private setSaving(on: boolean): void {
    this.saving = on;
    const inputs = FEE_TYPES.flatMap((type) => Object.values(this.inputs[type]));
    setFormBusy(this.element, this.button, [...inputs, this.reasonInput], on);
  }
}
