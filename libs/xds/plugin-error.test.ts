import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCase } from '../testkit/translation-cases.ts';
import type { TranslationPlugin } from './generate/plugin.ts';
import { PluginError } from './plugin-error.ts';
import { TypeUrl } from './protos.ts';
import { Translator } from './translator.ts';

const c = loadCase(join(import.meta.dirname, 'testdata', 'http-outbound.input.yaml'));
const translate = (plugin: TranslationPlugin) => () => new Translator(undefined, [plugin]).translate(c.mesh, c.dataplane, c.views.get(c.mesh)!);
const onClusters = (apply: TranslationPlugin['apply']): TranslationPlugin => ({ name: 'test-plugin', order: 1, reads: [], configure: (p) => (p.kind === 'cds' ? true : undefined), apply });

describe('PluginError', () => {
  it('wraps what a plugin throws, naming the plugin and keeping the cause', () => {
    const boom = new RangeError('no such thing');
    const run = translate(onClusters(() => { throw boom; }));
    expect(run).toThrow(PluginError);
    try {
      run();
    } catch (err) {
      expect(err).toMatchObject({ name: 'PluginError', plugin: 'test-plugin', message: 'test-plugin: no such thing', cause: boom });
    }
  });

  it('is what a resource that plugins left unencodable gives, naming the resource', () => {
    const run = translate(onClusters((drafts) => {
      for (const d of drafts) if (d.typeUrl === TypeUrl.Cluster) d.body['connect_timeout'] = 'soon';
    }));
    expect(run).toThrow(PluginError);
    expect(run).toThrow(/^Cluster "[^"]+" is not valid Envoy configuration: /);
  });

  it('is not raised for configurations without plugins', () => {
    expect(() => new Translator().translate(c.mesh, c.dataplane, c.views.get(c.mesh)!)).not.toThrow();
  });
});
