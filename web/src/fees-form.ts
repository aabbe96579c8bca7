/**
 * The operator's fee form for one account: a withdrawal's and a payout's rule (flat, basis
 * points, minimum, maximum) and the reason, saved with PUT /accounts/{id}/fees. It shows the
 * schedule exactly as the API last sent it, with its version and who changed it last.
 */
import { FEE_TYPES, type Api, type FeeRule, type FeeSchedule, type FeeType } from './api';
import { h, uid } from './dom';
import { dateFormat } from './history';
import { minorToInput, parseFee } from './money';
import { OperatorForm, type OperatorFormHost } from './operator-form';

export interface FeesHost extends OperatorFormHost {
  api: Api;
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

type RuleInputs = Record<Field, HTMLInputElement>;
type Refuse = (input: HTMLInputElement, message: string) => null;

/** The operator's fee form: one account's schedule on the shared frame (operator-form.ts). */
export class FeesForm {
  readonly element: HTMLFormElement;
  private readonly form: OperatorForm<FeeSchedule, Partial<Record<FeeType, FeeRule>>>;

  constructor(host: FeesHost) {
    const hintId = uid('fees-hint');
    const inputs: Record<FeeType, RuleInputs> = {
      WITHDRAWAL: ruleInputs(hintId),
      PAYOUT: ruleInputs(hintId),
    };
    this.form = new OperatorForm(
      host,
      {
        action: 'fees',
        title: 'Fees',
        hint: `In ${host.currency}. A fee is flat + amount × basis points / 10,000, then at least the minimum and at most the maximum. Leave a field empty for none.`,
        reasonLabel: 'Reason for the change',
        reasonWhat: 'change',
        content: FEE_TYPES.map((type) => fieldset(type, inputs[type])),
        inputs: FEE_TYPES.flatMap((type) => Object.values(inputs[type])),
        read: () => host.api.fees(host.accountId),
        parse: (refuse) => readRules(inputs, host.currency, refuse),
        save: (body) => host.api.setFees(host.accountId, body),
        show: (schedule) => showSchedule(inputs, schedule, host.currency),
        saved: (schedule) => `Fees saved: version ${schedule.version}.`,
      },
      hintId,
    );
    this.element = this.form.element;
  }

  /** Reads the schedule and shows it. */
  load(): Promise<void> {
    return this.form.load();
  }
}

/** The rules as typed, or null (and the first bad field refused). A rule left empty is none. */
function readRules(
  inputs: Record<FeeType, RuleInputs>,
  currency: string,
  refuse: Refuse,
): Partial<Record<FeeType, FeeRule>> | null {
  const rules: Partial<Record<FeeType, FeeRule>> = {};
  for (const type of FEE_TYPES) {
    const rule = readRule(inputs[type], currency, refuse);
    if (rule === null) return null;
    if (Object.keys(rule).length > 0) rules[type] = rule;
  }
  return rules;
}

function readRule(inputs: RuleInputs, currency: string, refuse: Refuse): FeeRule | null {
  const rule: FeeRule = {};
  for (const field of MONEY_FIELDS) {
    const parsed = parseFee(inputs[field].value, currency);
    if (!parsed.ok) return refuse(inputs[field], parsed.message);
    if (parsed.minor !== null) rule[field] = Number(parsed.minor);
  }
  const bps = inputs.bps.value.trim();
  if (bps !== '') {
    if (!/^\d{1,5}$/.test(bps) || Number(bps) > BPS_MAX) {
      return refuse(inputs.bps, 'Basis points are a whole number from 0 to 10,000.');
    }
    rule.bps = Number(bps);
  }
  if (rule.min !== undefined && rule.max !== undefined && rule.min > rule.max) {
    return refuse(inputs.min, 'The minimum fee may not be above the maximum.');
  }
  for (const input of Object.values(inputs)) input.removeAttribute('aria-invalid');
  return rule;
}

/** The schedule as the API sent it in the fields; answers the line saying its last change. */
function showSchedule(
  inputs: Record<FeeType, RuleInputs>,
  schedule: FeeSchedule,
  currency: string,
): string {
  for (const type of FEE_TYPES) {
    const rule = schedule[type] ?? {};
    for (const field of MONEY_FIELDS) {
      const value = rule[field];
      inputs[type][field].value = value === undefined ? '' : minorToInput(value, currency);
    }
    inputs[type].bps.value = rule.bps === undefined ? '' : String(rule.bps);
  }
  const change = schedule.changed;
  return change
    ? `Version ${schedule.version}, changed ${dateFormat.format(new Date(change.at))} by ${change.by}: ${change.reason}`
    : 'No fees were ever set on this account.';
}

function fieldset(type: FeeType, inputs: RuleInputs): HTMLElement {
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

function ruleInputs(hintId: string): RuleInputs {
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
