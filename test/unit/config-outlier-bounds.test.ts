import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

/**
 * Found with Envoy 1.40 (fresh-eyes-18): outlierDetection.successRate / failurePercentage counts had no upper
 * bound, and Envoy's fields are uint32: `stdevFactor: 4294967300` reached Envoy as success_rate_stdev_factor 4
 * (eject hosts 0.004 standard deviations below the mean), `requestVolume: 4294967296` as 0, `minimumHosts:
 * 4294967297` as 1, silently. An out-of-range value must be refused with its path.
 */
const config = (outlier: string) => `
clusters: [ { name: c, outlierDetection: ${outlier}, endpoints: [ { address: 127.0.0.1, port: 31101 } ] } ]
`;

function refusal(text: string): string {
  try {
    parseConfigText(text, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => `${i.path}: ${i.message}`).join('\n');
  }
  return 'accepted';
}

describe('outlier detection counts fit Envoy uint32 fields', () => {
  it.each([
    ['successRate', 'stdevFactor', 4294967300],
    ['successRate', 'requestVolume', 4294967296],
    ['successRate', 'minimumHosts', 4294967297],
    ['failurePercentage', 'requestVolume', 4294967296],
    ['failurePercentage', 'minimumHosts', 4294967297],
  ])('%s.%s = %d is refused', (block, field, value) => {
    expect(refusal(config(`{ ${block}: { ${field}: ${value} } }`))).toContain(`clusters[0].outlierDetection.${block}.${field}`);
  });

  it('the largest uint32 is accepted', () => {
    expect(refusal(config('{ successRate: { stdevFactor: 4294967295, requestVolume: 4294967295, minimumHosts: 4294967295 } }'))).toBe('accepted');
  });
});
