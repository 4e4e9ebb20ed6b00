/* global module */
// Jest transform for files the code imports as text (`with { type: 'text' }`, which Bun
// inlines into the executables): the module's value is the file's content.
module.exports = {
  process(sourceText) {
    return { code: `module.exports = ${JSON.stringify(sourceText)};` };
  },
};
