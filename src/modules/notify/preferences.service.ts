import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import { inTransaction } from '../../platform/db/database.js';
import { KIND_NAMES, type Kind, ruleOf } from './kinds.js';
import { badTimeZone, channelNotOffered, transactionalKind } from './notify.errors.js';
import { findPreferences, findRecipient, setPreference, upsertRecipient } from './preferences.queries.js';
import type { PreferencesChange, PreferencesView } from './preferences.schemas.js';
import { formatClockTime, isTimeZone, parseClockTime } from './schedule.js';
import { CHANNELS, type Channel, type NotifyTables, type RecipientTable } from './tables.js';
import { isLocale } from './templates.js';

type Db = Kysely<NotifyTables>;

/** A person's quiet hours as they set them (`HH:MM` in their time zone), or null when none are set. */
export function quietHoursView(
  recipient: Pick<RecipientTable, 'quiet_start' | 'quiet_end' | 'time_zone'> | undefined,
): PreferencesView['quietHours'] {
  return recipient?.quiet_start != null && recipient.quiet_end != null && recipient.time_zone
    ? {
        start: formatClockTime(recipient.quiet_start),
        end: formatClockTime(recipient.quiet_end),
        timeZone: recipient.time_zone,
      }
    : null;
}

/**
 * Which kinds reach a person on which channel, their locale, phone and quiet hours. Transactional
 * kinds cannot be switched off: asking to is a conflict, and nothing of the request is applied.
 */
export function createPreferencesService(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;

  async function get(userId: string): Promise<PreferencesView> {
    const recipient = await findRecipient(db, userId);
    const prefs = await findPreferences(db, [userId], KIND_NAMES);
    const chosen = new Map(prefs.map((p) => [`${p.kind}|${p.channel}`, p.enabled]));
    return {
      locale: isLocale(recipient?.locale) ? recipient.locale : null,
      phone: recipient?.phone ?? null,
      quietHours: quietHoursView(recipient),
      kinds: KIND_NAMES.map((kind) => {
        const rule = ruleOf(kind);
        const channels: Partial<Record<Channel, boolean>> = {};
        for (const channel of rule.channels) {
          const byDefault = rule.defaultOn.includes(channel);
          channels[channel] =
            rule.transactional && byDefault ? true : (chosen.get(`${kind}|${channel}`) ?? byDefault);
        }
        return { kind, transactional: rule.transactional, channels };
      }),
    };
  }

  return {
    get,

    async change(userId: string, change: PreferencesChange): Promise<PreferencesView> {
      const switches: { kind: Kind; channel: Channel; enabled: boolean }[] = [];
      for (const entry of change.kinds ?? []) {
        const rule = ruleOf(entry.kind);
        for (const channel of CHANNELS) {
          const enabled = entry.channels[channel];
          if (enabled === undefined) continue;
          if (!rule.channels.includes(channel)) throw channelNotOffered(entry.kind, channel);
          if (!enabled && rule.transactional && rule.defaultOn.includes(channel)) {
            throw transactionalKind(entry.kind);
          }
          switches.push({ kind: entry.kind, channel, enabled });
        }
      }
      if (change.quietHours && !isTimeZone(change.quietHours.timeZone)) throw badTimeZone();

      await inTransaction(db, async (trx) => {
        const fields: Parameters<typeof upsertRecipient>[2] = {};
        if (change.locale !== undefined) fields.locale = change.locale;
        if (change.phone !== undefined) fields.phone = change.phone;
        if (change.quietHours !== undefined) {
          fields.quiet_start = change.quietHours ? parseClockTime(change.quietHours.start) : null;
          fields.quiet_end = change.quietHours ? parseClockTime(change.quietHours.end) : null;
          fields.time_zone = change.quietHours ? change.quietHours.timeZone : null;
        }
        await upsertRecipient(trx, userId, fields, clock());
        for (const s of switches) {
          await setPreference(trx, { user_id: userId, kind: s.kind, channel: s.channel, enabled: s.enabled });
        }
      });
      return get(userId);
    },
  };
}

export type PreferencesService = ReturnType<typeof createPreferencesService>;
