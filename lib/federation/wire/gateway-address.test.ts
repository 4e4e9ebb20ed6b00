import { isAcceptableGatewayAddress } from './gateway-address';

test.each([
  ['192.0.2.1', true],
  ['10.0.0.1', true],
  ['gw.example.com', true],
  ['2001:db8::1', true],
  ['127.0.0.1', false],
  ['0.0.0.0', false],
  ['169.254.169.254', false],
  ['224.0.0.1', false],
  ['::1', false],
  ['::', false],
  ['fe80::1', false],
  ['::ffff:127.0.0.1', false],
  ['localhost', false],
  ['x.localhost', false],
])('isAcceptableGatewayAddress(%p) = %p', (address, ok) => {
  expect(isAcceptableGatewayAddress(address)).toBe(ok);
});
