import { X509Certificate, createPrivateKey } from 'node:crypto';
import { selfSignedServingCertificate } from './self-signed';

test('the certificate made at start serves the in-cluster names and matches its key', () => {
  const { cert, key } = selfSignedServingCertificate(['api-proxy.d8-istio.svc', '127.0.0.1']);
  const x509 = new X509Certificate(cert);
  expect(x509.subject).toBe('CN=istio-api-proxy');
  expect(x509.subjectAltName).toBe('DNS:api-proxy.d8-istio.svc, IP Address:127.0.0.1');
  expect(x509.ca).toBe(false);
  expect(x509.checkPrivateKey(createPrivateKey(key))).toBe(true);
  expect(new Date(x509.validTo).getTime()).toBeGreaterThan(Date.now() + 9 * 365 * 24 * 3600_000);
  // A fresh key and serial every start.
  expect(new X509Certificate(selfSignedServingCertificate(['x']).cert).serialNumber).not.toBe(
    x509.serialNumber,
  );
});
