/**
 * Asks for an interaction's deletion (compliance officers). The server refuses while retention or
 * a legal hold keeps it (409, shown in words) and otherwise starts a disposition that waits for a
 * second officer on the Dispositions page.
 */
import { Button, Text } from '@fluentui/react-components';
import { useState } from 'react';
import type { Api } from '../api';
import { useAction } from '../load';
import { Link } from '../router';
import { Failure } from './State';

export function RequestDeletion(props: { api: Api; path: string }) {
  const action = useAction();
  const [isRequested, setIsRequested] = useState(false);
  const request = () =>
    action.run(async () => {
      await props.api.request('DELETE', props.path);
      setIsRequested(true);
    });
  return (
    <div style={{ display: 'flex', flexDirection: 'column', gap: 8, alignItems: 'start' }}>
      <Failure error={action.error} />
      {isRequested ? (
        <Text role="status">
          Deletion requested. A second compliance officer must approve it on the{' '}
          <Link to="dispositions">Dispositions</Link> page.
        </Text>
      ) : (
        <Button onClick={() => void request()}>Request deletion</Button>
      )}
    </div>
  );
}
