export interface CertificateContent {
  learnerName: string;
  courseTitle: string;
  issuedAt: Date;
  verificationId: string;
  verifyUrl: string;
}

/**
 * What the standard PDF fonts can draw (WinAnsi: printable Latin-1); anything else, such as a
 * Chinese name, becomes "?" so the gap is visible, and the certificate says that the name is
 * shown in full on the verification page (and in the document's metadata, which is Unicode).
 */
export function drawable(text: string): { text: string; degraded: boolean } {
  let degraded = false;
  const out = Array.from(text, (ch) => {
    const cp = ch.codePointAt(0) ?? 0;
    if ((cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff)) return ch;
    degraded = true;
    return '?';
  }).join('');
  return { text: out, degraded };
}

/** A one-page A4 landscape certificate, rendered on demand from the stored certificate. */
export async function renderCertificatePdf(content: CertificateContent): Promise<Uint8Array> {
  // imported on the first certificate, not at start: pdf-lib is slow to load and rarely needed
  const { PDFDocument, rgb, StandardFonts } = await import('pdf-lib');
  const doc = await PDFDocument.create();
  doc.setTitle(`Certificate: ${content.courseTitle}`);
  doc.setAuthor(content.learnerName);
  doc.setSubject(`Verification ID ${content.verificationId}`);
  doc.setCreator('Lectern');
  doc.setCreationDate(content.issuedAt);
  doc.setModificationDate(content.issuedAt);
  const page = doc.addPage([842, 595]);
  const regular = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const name = drawable(content.learnerName);
  const title = drawable(content.courseTitle);
  const centered = (text: string, y: number, size: number, font = regular) => {
    const fitted = text.length > 90 ? `${text.slice(0, 87)}...` : text;
    const width = font.widthOfTextAtSize(fitted, size);
    page.drawText(fitted, { x: (842 - width) / 2, y, size, font, color: rgb(0.1, 0.1, 0.2) });
  };
  page.drawRectangle({
    x: 24,
    y: 24,
    width: 794,
    height: 547,
    borderWidth: 2,
    borderColor: rgb(0.3, 0.3, 0.5),
  });
  centered('Certificate of Completion', 470, 34, bold);
  centered('This certifies that', 410, 16);
  centered(name.text, 365, 28, bold);
  centered('has completed the course', 320, 16);
  centered(title.text, 280, 22, bold);
  centered(`Issued ${content.issuedAt.toISOString().slice(0, 10)} (UTC)`, 220, 14);
  if (name.degraded || title.degraded) {
    centered(
      'Some characters cannot be shown in this font; the verification page shows them in full.',
      190,
      10,
    );
  }
  centered(`Verification ID: ${content.verificationId}`, 120, 12);
  centered(drawable(content.verifyUrl).text, 100, 10);
  return doc.save();
}
