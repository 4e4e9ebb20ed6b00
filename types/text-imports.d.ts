// Files imported as text (`import text from './file.yaml' with { type: 'text' }`): Bun
// inlines them into the executable; jest loads them through tests/text-transform.cjs.
declare module '*.yaml' {
  const text: string;
  export default text;
}
