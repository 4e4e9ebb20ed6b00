import { makeCertificate } from '../../tests/fetch/certs';
import { istiodTrustAnchorProblem } from './trust-anchor';

// The verdicts that a real istiod confirms are in tests/istiod; these are the parsing rules.
describe('istiodTrustAnchorProblem', () => {
  const root = makeCertificate({ commonName: 'root', isCA: true });

  test('a CA certificate passes, with LF or CRLF line ends', () => {
    expect(istiodTrustAnchorProblem(root.certPem.replace(/\r?\n/g, '\n'))).toBeUndefined();
    expect(istiodTrustAnchorProblem(root.certPem.replace(/\r?\n/g, '\r\n'))).toBeUndefined();
  });

  test('only the first PEM block counts, as in istiod (pem.Decode)', () => {
    const leaf = makeCertificate({ commonName: 'leaf', isCA: false, issuer: root });
    expect(istiodTrustAnchorProblem(`${root.certPem}${leaf.certPem}`)).toBeUndefined();
    expect(istiodTrustAnchorProblem(`${leaf.certPem}${root.certPem}`)).toMatch(/not a CA/);
    expect(istiodTrustAnchorProblem(`${root.keyPem}${root.certPem}`)).toMatch(
      /RSA PRIVATE KEY, not CERTIFICATE/,
    );
  });

  test('a negative serial number is refused, a positive one with the high bit padded is not', () => {
    const negative = makeCertificate({ commonName: 'neg', isCA: true, serialHex: '80' + '00'.repeat(7) });
    const padded = makeCertificate({ commonName: 'pos', isCA: true, serialHex: '0080' + '00'.repeat(7) });
    expect(istiodTrustAnchorProblem(negative.certPem)).toMatch(/negative serial/);
    expect(istiodTrustAnchorProblem(padded.certPem)).toBeUndefined();
  });

  test('garbage and truncated bodies are refused', () => {
    expect(istiodTrustAnchorProblem('')).toMatch(/no PEM block/);
    expect(
      istiodTrustAnchorProblem('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'),
    ).toMatch(/does not parse/);
  });
});
