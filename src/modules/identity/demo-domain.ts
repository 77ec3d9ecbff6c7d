import { domainToASCII } from 'node:url';

/**
 * The domain of the demo accounts (`seed/demo.data.ts`). It is reserved: only the demo seed gives
 * an account an address there, so such an address always means a demo account, to other users,
 * to admins and to the seed itself (which would otherwise find its addresses taken).
 */
export const DEMO_EMAIL_DOMAIN = 'demo.lectern.dev';

// Invisible characters (zero-width spaces and joiners, soft hyphens, bidi controls) survive NFKC:
// `de\u200Bmo.lectern.dev` is stored as typed and shown exactly like the demo domain
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;

/**
 * The domain as a mail system resolves it: identity's normalisation (NFKC, lower case), without
 * invisible characters, through IDNA (UTS #46 maps `。`, `．` and `｡` to dots) and without the
 * trailing dot of a fully qualified name. Only for comparing: the stored address stays as
 * `normalizeEmail` spells it.
 */
function resolvedDomain(email: string): string {
  const normalised = email.trim().normalize('NFKC').toLowerCase();
  const domain = normalised.slice(normalised.lastIndexOf('@') + 1).replace(INVISIBLE, '');
  // an empty answer means IDNA refuses the name; compare it as typed then
  return (domainToASCII(domain) || domain).replace(/\.+$/, '');
}

/** Whether the address is at the demo domain or one of its subdomains (`x.demo.lectern.dev`). */
export function isDemoAddress(email: string): boolean {
  const domain = resolvedDomain(email);
  return domain === DEMO_EMAIL_DOMAIN || domain.endsWith(`.${DEMO_EMAIL_DOMAIN}`);
}
